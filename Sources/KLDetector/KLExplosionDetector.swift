/// rlwatch 0.5.1's KL-explosion detector, decision for decision, at O(1) amortized cost per step.
///
/// Feed it samples in order with ``check(step:value:)``. It keeps the last `rollingWindow` samples; the
/// rolling baseline is the population mean and standard deviation of the window before the current value.
/// A fast running estimate (``SlidingMoments``) decides every step whose z-score is clearly below the
/// warning threshold; a step that could fire, or lands within the estimate's error bound of a threshold, is
/// recomputed exactly as numpy does (O(window)). Steps that fire are rare by nature, so the cost stays O(1)
/// amortized while every decision and every alert figure is numpy's.
///
/// rlwatch edges kept on purpose: warmup counts samples, not step numbers; nothing is decided until the
/// window holds 10 samples; the frozen baseline locks the first time the window is full, over the whole
/// window including the current value, and never moves; std is floored at 1e-8; comparisons are strict;
/// NaN anywhere in the baseline makes z NaN (silent); a missing value is skipped entirely.
public struct KLExplosionDetector: Sendable {
    public let settings: DetectorSettings
    /// Samples fed so far (missing values excluded): the counter warmup is measured against.
    public private(set) var samplesSeen = 0
    public private(set) var frozenBaseline: FrozenBaseline?

    private var window: SampleWindow
    private var moments = SlidingMoments()
    /// Scratch space for exact recomputation: a chronological copy of the window, then squared deviations.
    private var scratch: ContiguousArray<Double>

    public init(settings: DetectorSettings = DetectorSettings()) {
        self.settings = settings
        let capacity = max(settings.rollingWindow, 1)
        window = SampleWindow(capacity: capacity)
        scratch = ContiguousArray(repeating: 0, count: 2 * capacity)
    }

    /// Runs the detector on one sample. Returns nil for a missing value (absent or null in the log), which
    /// rlwatch skips without counting, and when the detector is disabled.
    public mutating func check(step: Int64, value: Double?) -> StepVerdict? {
        guard settings.enabled, let x = value else { return nil }
        samplesSeen += 1
        if window.isFull { moments.forget(window.removeOldest()) }
        // From here the window holds exactly the rolling baseline: the samples before x.
        let lengthWithCurrent = window.count + 1
        if samplesSeen < settings.warmupSteps || lengthWithCurrent < 10 {
            append(x)
            return StepVerdict(
                step: step, value: x, status: .warmingUp, mean: .nan, std: .nan, z: .nan, isExact: true,
                usesFrozenBaseline: false)
        }
        if settings.baselineMode == .frozen {
            if frozenBaseline == nil && lengthWithCurrent >= settings.rollingWindow {
                append(x)
                lockFrozenBaseline(at: step)
            } else if frozenBaseline != nil {
                append(x)
            }
            if let frozen = frozenBaseline {
                let std = Self.floored(frozen.std)
                let z = (x - frozen.mean) / std
                return StepVerdict(
                    step: step, value: x, status: status(z), mean: frozen.mean, std: std, z: z, isExact: true,
                    usesFrozenBaseline: true)
            }
        }
        let verdict = rollingVerdict(step: step, x: x)
        append(x)
        return verdict
    }

    /// The z-score against the window as it stands (the baseline, without x).
    private mutating func rollingVerdict(step: Int64, x: Double) -> StepVerdict {
        if window.nonFiniteCount > 0 {
            // numpy gives NaN std whenever the window holds NaN or an infinity, so z is NaN and silent.
            return StepVerdict(
                step: step, value: x, status: .normal, mean: window.nonFiniteMean, std: .nan, z: .nan,
                isExact: true, usesFrozenBaseline: false)
        }
        if window.hugeCount == 0 && !x.isNaN && x != .infinity {
            var estimate = moments.estimate(count: window.count)
            if estimate.isLoose {
                rebuildMoments()
                estimate = moments.estimate(count: window.count)
            }
            let std = Self.floored(estimate.std)
            let z = (x - estimate.mean) / std
            let scale = (abs(x) + abs(estimate.mean) + std) / std
            let margin =
                1e-9 * (1 + abs(z)) * scale + 4 * (estimate.meanError + abs(z) * estimate.stdError) / std
            if z < settings.sigmaMultiplier - margin {
                return StepVerdict(
                    step: step, value: x, status: .normal, mean: estimate.mean, std: std, z: z,
                    isExact: false, usesFrozenBaseline: false)
            }
        }
        let (mean, rawStd) = exactStatistics()
        let std = Self.floored(rawStd)
        let z = (x - mean) / std
        return StepVerdict(
            step: step, value: x, status: status(z), mean: mean, std: std, z: z, isExact: true,
            usesFrozenBaseline: false)
    }

    private func status(_ z: Double) -> StepStatus {
        if z > settings.criticalMultiplier { return .critical }
        if z > settings.sigmaMultiplier { return .warning }
        return .normal
    }

    /// rlwatch's `if rolling_std < 1e-8: rolling_std = 1e-8` (NaN stays NaN).
    private static func floored(_ std: Double) -> Double { std < 1e-8 ? 1e-8 : std }

    private mutating func append(_ x: Double) {
        window.append(x)
        moments.remember(x)
    }

    private mutating func lockFrozenBaseline(at step: Int64) {
        let (mean, std) = exactStatistics()
        frozenBaseline = FrozenBaseline(mean: mean, std: std, lockedAtStep: step)
    }

    /// `np.mean` and `np.std` of the window, bit for bit.
    private mutating func exactStatistics() -> (mean: Double, std: Double) {
        let count = window.count
        let capacity = window.capacity
        return scratch.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            window.copyChronologically(into: base)
            let values = UnsafeBufferPointer(start: base, count: count)
            let mean = NumpyStatistics.mean(values)
            return (mean, NumpyStatistics.standardDeviation(values, mean: mean, scratch: base + capacity))
        }
    }

    private mutating func rebuildMoments() {
        let count = window.count
        let capacity = window.capacity
        scratch.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            window.copyChronologically(into: base)
            moments.rebuild(UnsafeBufferPointer(start: base, count: count), scratch: base + capacity)
        }
    }
}

extension SlidingMoments {
    /// Ordinary values only: non-finite and huge ones are counted by the window and handled apart.
    fileprivate mutating func remember(_ x: Double) {
        if SampleWindow.isOrdinary(x) { add(x) }
    }

    fileprivate mutating func forget(_ x: Double) {
        if SampleWindow.isOrdinary(x) { remove(x) }
    }
}
