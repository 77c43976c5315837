import KLDetector

/// rlwatch's `KLExplosionDetector.check`, transcribed line by line with plain arrays: O(window) per step and
/// obviously right, the yardstick the fast detector is held to.
struct ReferenceDetector {
    let settings: DetectorSettings
    var history: [Double] = []
    var stepCount = 0
    var frozen: (mean: Double, std: Double)?

    init(settings: DetectorSettings) { self.settings = settings }

    struct Decision: Equatable {
        var status: StepStatus
        var mean: Double
        var std: Double
        var z: Double
    }

    mutating func check(step: Int64, value: Double?) -> Decision? {
        guard let kl = value else { return nil }
        stepCount += 1
        history.append(kl)
        if history.count > settings.rollingWindow { history.removeFirst() }
        if stepCount < settings.warmupSteps || history.count < 10 {
            return Decision(status: .warmingUp, mean: .nan, std: .nan, z: .nan)
        }
        var mean: Double
        var std: Double
        if settings.baselineMode == .frozen {
            if frozen == nil && history.count >= settings.rollingWindow {
                frozen = NumpyStatistics.meanAndStandardDeviation(history)
            }
            if let frozen {
                (mean, std) = frozen
            } else {
                (mean, std) = NumpyStatistics.meanAndStandardDeviation(Array(history.dropLast()))
            }
        } else {
            (mean, std) = NumpyStatistics.meanAndStandardDeviation(Array(history.dropLast()))
        }
        if std < 1e-8 { std = 1e-8 }
        let z = (kl - mean) / std
        let status: StepStatus =
            z > settings.sigmaMultiplier * 1.5
            ? .critical : (z > settings.sigmaMultiplier ? .warning : .normal)
        return Decision(status: status, mean: mean, std: std, z: z)
    }
}

/// A small deterministic generator (splitmix64), the same one the numpy fixture script uses.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 53 bits, as in make_numpy.py.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    mutating func gaussian() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }
}

// Tiny libm wrappers so the tests need no Foundation.
#if canImport(Glibc)
    import Glibc
    func _log(_ x: Double) -> Double { Glibc.log(x) }
    func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
    import Darwin
    func _log(_ x: Double) -> Double { Darwin.log(x) }
    func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
