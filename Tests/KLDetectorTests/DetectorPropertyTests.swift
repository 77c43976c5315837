import Foundation
import KLDetector
import Testing

/// The fast detector against the line-by-line transcription of rlwatch on random series: the decision must
/// be identical on every step, and the figures numpy's (exact on every step that fires, within 1e-9 relative
/// where they are estimates).
@Suite struct DetectorPropertyTests {
    enum Shape: CaseIterable {
        case noise, largeOffset, spikes, drift, nearConstant, nonFinite, missing, thresholdHugging, explosion
    }

    struct Case: CustomStringConvertible, Sendable {
        var window: Int
        var warmup: Int
        var mode: BaselineMode
        var shape: Shape
        var seed: UInt64
        var description: String { "w\(window) warmup\(warmup) \(mode) \(shape) seed\(seed)" }
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        var seed: UInt64 = 1
        // 1025 and 2100 outgrow the window's first allocation (1024 samples) once and twice.
        for window in [8, 9, 10, 11, 100, 127, 128, 129, 130, 256, 1000, 1025, 2100] {
            for mode in BaselineMode.allCases {
                for shape in Shape.allCases {
                    let warmup = [0, 5, 20, 150][Int(seed % 4)]
                    cases.append(Case(window: window, warmup: warmup, mode: mode, shape: shape, seed: seed))
                    seed += 1
                }
            }
        }
        return cases
    }()

    @Test(arguments: cases)
    func fastDetectorDecidesAsTheReference(_ c: Case) {
        let settings = DetectorSettings(rollingWindow: c.window, warmupSteps: c.warmup, baselineMode: c.mode)
        var fast = KLExplosionDetector(settings: settings)
        var reference = ReferenceDetector(settings: settings)
        var random = SplitMix64(state: c.seed)
        let length = max(3 * c.window, 600)
        var fired = 0
        for index in 0..<length {
            let value = Self.value(c.shape, index: index, reference: reference, settings: settings, &random)
            let step = Int64(index)
            let expected = reference.check(step: step, value: value)
            let actual = fast.check(step: step, value: value)
            guard let expected else {
                #expect(actual == nil, "step \(index): a missing value must be skipped")
                continue
            }
            guard let actual else {
                Issue.record("step \(index): no verdict")
                return
            }
            if actual.status != expected.status {
                Issue.record(
                    "step \(index): \(actual.status) (z \(actual.z)), rlwatch \(expected.status) (z \(expected.z))"
                )
                return
            }
            if actual.status >= .warning { fired += 1 }
            guard actual.status != .warmingUp else { continue }
            if actual.isExact {
                #expect(
                    Self.same(actual.mean, expected.mean) && Self.same(actual.std, expected.std),
                    "step \(index)")
                #expect(Self.same(actual.z, expected.z), "step \(index)")
            } else {
                #expect(Self.close(actual.mean, expected.mean, scale: expected.std), "step \(index) mean")
                #expect(Self.close(actual.std, expected.std, scale: expected.std), "step \(index) std")
                // An alert's figures, asked for, are numpy's exactly.
                guard actual.status >= .warning else { continue }
                let exact = fast.exactFigures(for: actual)
                #expect(exact.isExact && exact.status == actual.status, "step \(index)")
                #expect(
                    Self.same(exact.mean, expected.mean) && Self.same(exact.std, expected.std)
                        && Self.same(exact.z, expected.z), "step \(index): exact figures")
            }
        }
        #expect(fast.samplesSeen == reference.stepCount)
        if c.shape == .spikes && c.window >= 10 { #expect(fired > 0, "spikes must fire") }
    }

    /// The next value of a series of the given shape; the threshold-hugging shape aims at z = σ or 1.5σ
    /// against the reference's current baseline, give or take a few ulps.
    static func value(
        _ shape: Shape, index: Int, reference: ReferenceDetector, settings: DetectorSettings,
        _ random: inout SplitMix64
    ) -> Double? {
        let noise = random.gaussian()
        switch shape {
        case .noise: return 0.02 + 0.003 * noise
        case .largeOffset: return 1000 + 1e-6 * noise
        case .spikes: return index % 97 == 96 ? 0.02 * Double(1 + index % 5) * 10 : 0.02 + 0.002 * noise
        case .drift: return 0.01 * Double(index + 1) + 0.001 * noise
        case .nearConstant: return random.unit() < 0.9 ? 0.05 : 0.05 + 1e-9 * noise
        case .nonFinite:
            let roll = random.unit()
            if roll < 0.01 { return .nan }
            if roll < 0.02 { return .infinity }
            if roll < 0.025 { return -.infinity }
            return 0.03 + 0.004 * noise
        case .missing: return random.unit() < 0.2 ? nil : 0.03 + 0.004 * noise
        case .explosion:
            // Quiet, then growing 1% a step: it fires on nearly every step once it takes off.
            let growth = index < 400 ? 1 : pow(1.01, Double(index - 400))
            return (0.02 + 0.002 * noise) * growth
        case .thresholdHugging:
            let history = reference.history
            guard index % 3 == 0, history.count >= settings.rollingWindow, history.count >= 10 else {
                return 0.02 + 0.003 * noise
            }
            let baseline = Array(history.suffix(settings.rollingWindow - 1))
            var (mean, std) = reference.frozen ?? NumpyStatistics.meanAndStandardDeviation(baseline)
            if std < 1e-8 { std = 1e-8 }
            let multiplier = random.unit() < 0.5 ? settings.sigmaMultiplier : settings.sigmaMultiplier * 1.5
            var x = mean + multiplier * std
            let ulps = Int(random.next() % 9) - 4
            for _ in 0..<abs(ulps) { x = ulps > 0 ? x.nextUp : x.nextDown }
            return x
        }
    }

    static func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }

    static func close(_ a: Double, _ b: Double, scale: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b), scale)
    }
}
