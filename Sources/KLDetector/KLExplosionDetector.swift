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
    /// `1 / reciprocalCount`, recomputed only while the window fills.
    private var reciprocal = 1.0
    private var reciprocalCount = 1
    /// The frozen baseline's std after the floor, computed once when it locks.
    private var frozenStd = Double.nan
    /// The quiet-step test's margins (see ``isCertainlyBelowWarning(_:_:)``), fixed by the settings.
    private let allowance: Double
    private let loweredSigmaSquared: Double

    public init(settings: DetectorSettings = DetectorSettings()) {
        self.settings = settings
        let capacity = max(settings.rollingWindow, 1)
        window = SampleWindow(capacity: capacity)
        let sigma = settings.sigmaMultiplier
        allowance = 1e-9 * (1 + abs(sigma))
        let loweredSigma = sigma * (1 - 1e-9) - 1e-9
        loweredSigmaSquared = loweredSigma > 0 ? loweredSigma * loweredSigma : 0
    }

    /// Runs the detector on one sample. Returns nil for a missing value (absent or null in the log), which
    /// rlwatch skips without counting, and when the detector is disabled.
    public mutating func check(step: Int64, value: Double?) -> StepVerdict? {
        guard settings.enabled, let x = value else { return nil }
        samplesSeen += 1
        window.makeUnique()
        if window.isFull { moments.forget(window.removeOldest()) }
        // From here the window holds exactly the rolling baseline: the samples before x.
        let lengthWithCurrent = window.count + 1
        if samplesSeen < settings.warmupSteps || lengthWithCurrent < 10 {
            append(x)
            return StepVerdict(
                step: step, value: x, status: .warmingUp, mean: .nan, variance: .nan, isExact: true,
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
                let z = (x - frozen.mean) / frozenStd
                return StepVerdict(
                    step: step, value: x, status: status(z), mean: frozen.mean, variance: frozen.variance,
                    isExact: true, usesFrozenBaseline: true)
            }
        }
        let verdict = rollingVerdict(step: step, x: x)
        append(x)
        return verdict
    }

    /// The z-score against the window as it stands (the baseline, without x).
    @inline(__always)
    private mutating func rollingVerdict(step: Int64, x: Double) -> StepVerdict {
        if window.unusualCount == 0 && SampleWindow.isOrdinary(x) {
            if window.count != reciprocalCount { updateReciprocal() }
            let estimate = moments.estimate(reciprocal: reciprocal)
            if !estimate.isLoose && isCertainlyBelowWarning(x, estimate) {
                return StepVerdict(
                    step: step, value: x, status: .normal, mean: estimate.mean, variance: estimate.variance,
                    isExact: false, usesFrozenBaseline: false)
            }
        }
        return slowRollingVerdict(step: step, x: x)
    }

    @inline(never)
    private mutating func updateReciprocal() {
        reciprocalCount = window.count
        reciprocal = 1 / Double(window.count)
    }

    /// The rare steps: a loose estimate to rebuild, a non-finite or huge value about, or a step that could
    /// fire and is computed exactly.
    @inline(never)
    private mutating func slowRollingVerdict(step: Int64, x: Double) -> StepVerdict {
        if window.nonFiniteCount > 0 {
            // numpy gives NaN std whenever the window holds NaN or an infinity, so z is NaN and silent.
            return StepVerdict(
                step: step, value: x, status: .normal, mean: window.nonFiniteMean, variance: .nan,
                isExact: true,
                usesFrozenBaseline: false)
        }
        if window.hugeCount == 0 && !x.isNaN && x != .infinity {
            if window.count != reciprocalCount { updateReciprocal() }
            var estimate = moments.estimate(reciprocal: reciprocal)
            if estimate.isLoose {
                rebuildMoments()
                estimate = moments.estimate(reciprocal: reciprocal)
            }
            if isCertainlyBelowWarning(x, estimate) {
                return StepVerdict(
                    step: step, value: x, status: .normal, mean: estimate.mean, variance: estimate.variance,
                    isExact: false, usesFrozenBaseline: false)
            }
        }
        let (mean, variance) = exactStatistics()
        let z = (x - mean) / Self.floored(variance.squareRoot())
        return StepVerdict(
            step: step, value: x, status: status(z), mean: mean, variance: variance, isExact: true,
            usesFrozenBaseline: false)
    }

    /// True when numpy's z-score for x is certainly not above the warning threshold, judged from the running
    /// estimate without a square root or a division.
    ///
    /// With d = x - mean and s the floored std, z > σ means d > σ·s. The estimate is within about 2e-11 of
    /// the exact figures and numpy's own rounding is near 1e-15; the test allows 1e-9 for both, with room to
    /// spare: d is raised by 1e-9 of the magnitudes involved, σ and the variance are lowered by as much, and
    /// only when the raised d is still below the lowered σ·s, compared as squares, is the step certainly
    /// quiet. Anything closer is recomputed exactly.
    @inline(__always)
    private func isCertainlyBelowWarning(_ x: Double, _ estimate: SlidingMoments.Estimate) -> Bool {
        guard loweredSigmaSquared > 0 else { return false }
        let raisedDeviation = (x - estimate.mean) + allowance * (abs(x) + abs(estimate.mean))
        if raisedDeviation < 0 { return true }
        let lowestVariance = max(estimate.variance * (1 - 1e-8), 1e-16)
        return raisedDeviation * raisedDeviation < loweredSigmaSquared * lowestVariance
    }

    private func status(_ z: Double) -> StepStatus {
        if z > settings.criticalMultiplier { return .critical }
        if z > settings.sigmaMultiplier { return .warning }
        return .normal
    }

    /// rlwatch's `if rolling_std < 1e-8: rolling_std = 1e-8` (NaN stays NaN).
    @inline(__always) static func floored(_ std: Double) -> Double { std < 1e-8 ? 1e-8 : std }

    @inline(__always) private mutating func append(_ x: Double) {
        window.append(x)
        moments.remember(x)
    }

    private mutating func lockFrozenBaseline(at step: Int64) {
        let (mean, variance) = exactStatistics()
        let baseline = FrozenBaseline(mean: mean, variance: variance, lockedAtStep: step)
        frozenBaseline = baseline
        frozenStd = Self.floored(baseline.std)
    }

    /// `np.mean` and `np.var` of the window, bit for bit.
    private func exactStatistics() -> (mean: Double, variance: Double) {
        withScratch { base, count in
            let values = UnsafeBufferPointer(start: base, count: count)
            let mean = NumpyStatistics.mean(values)
            return (mean, NumpyStatistics.variance(values, mean: mean, scratch: base + count))
        }
    }

    private mutating func rebuildMoments() {
        moments = withScratch { base, count in
            var moments = SlidingMoments()
            moments.rebuild(UnsafeBufferPointer(start: base, count: count), scratch: base + count)
            return moments
        }
    }

    /// Runs `body` on a chronological copy of the window followed by as much free space. Only the exact
    /// path and rebuilds need it, so it is not kept between steps.
    private func withScratch<Result>(_ body: (UnsafeMutablePointer<Double>, Int) -> Result) -> Result {
        let count = window.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(2 * count, 1)) { buffer in
            let base = buffer.baseAddress!
            window.copyChronologically(into: base)
            return body(base, count)
        }
    }
}

extension SlidingMoments {
    /// Ordinary values only: non-finite and huge ones are counted by the window and handled apart.
    @inline(__always) fileprivate mutating func remember(_ x: Double) {
        if SampleWindow.isOrdinary(x) { add(x) }
    }

    @inline(__always) fileprivate mutating func forget(_ x: Double) {
        if SampleWindow.isOrdinary(x) { remove(x) }
    }
}
