/// rlwatch 0.5.1's KL-explosion detector, decision for decision, at O(1) amortized cost per step.
///
/// Feed it samples in order with ``check(step:value:)``. It keeps the last `rollingWindow - 1` samples:
/// the rolling baseline of the next step, whose population mean and standard deviation the z-score uses.
/// A fast running estimate (``SlidingMoments``) decides every step whose z-score is clearly below the
/// warning threshold, or clearly above it (and clearly on one side of the critical one): an exploding run
/// fires on every step, and must not cost O(window) a step. Only a step that lands within the estimate's
/// error bound of a threshold is recomputed exactly as numpy does (O(window)); such steps are rare, so the
/// cost stays O(1) amortized while every decision is numpy's. An alert's figures (mean, std, z) are
/// numpy's exact doubles too when asked for, for the few alerts a person is shown: ``exactFigures(for:)``.
///
/// rlwatch edges kept on purpose: warmup counts samples, not step numbers; nothing is decided until the
/// window holds 10 samples; the frozen baseline locks the first time the window is full, over the whole
/// window including the current value, and never moves; std is floored at 1e-8; comparisons are strict;
/// NaN anywhere in the baseline makes z NaN (silent); a missing value is skipped entirely.
///
/// ## Cost
///
/// ``check(step:value:)`` is `@inlinable`: its two common cases, a quiet step of a full rolling window and
/// any step after the frozen baseline locked (``Lane``), are inlined into the caller's loop, with no call,
/// no stack frame and no verdict written through memory; fields of the verdict the caller never reads are
/// not even computed. (Out of line, the call returned the 42-byte optional verdict indirectly and spilled
/// every floating-point register around it: 163 instructions a quiet step instead of 115 when measured.)
/// Everything else, and any quiet-lane step that turns out not to be certainly quiet, goes to one
/// out-of-line general step that redoes the step from scratch, so the fast lanes never leave half-updated
/// state behind. The inlinable members are internal and `@usableFromInline`; the public API is unchanged.
/// `check` is also `@inline(__always)`: left to itself the optimizer inlined it into the bench's loop but
/// not into the dashboard's replay or ``RunMonitor``; forced, a 1M-step dashboard re-run takes ~15% less.
///
/// A quiet rolling step is now about 100 instructions: the estimate and its tightness (~25), the quiet
/// test (~15), the ring (~15, see ``SampleWindow``), the fused update of the sums and their error bounds
/// (~27, see ``SlidingMoments/replace(_:with:)``), plus the settling and rebuilds amortized (~8).
public struct KLExplosionDetector: Sendable {
    /// rlwatch's `len(self._history) < 10` test: nothing is decided before the window holds this many
    /// samples, so a smaller rolling window never decides (nor locks a frozen baseline).
    public static let samplesBeforeAnyDecision = 10

    public let settings: DetectorSettings
    /// Samples fed so far (missing values excluded): the counter warmup is measured against.
    public var samplesSeen: Int { seen }
    public private(set) var frozenBaseline: FrozenBaseline?

    /// Which inlined lane the next step may take; set at the end of every general step. The rolling lane is
    /// declared first: its tag is 0, so the hot dispatch is one test (2 instructions fewer a step).
    @usableFromInline
    enum Lane: UInt8, Sendable {
        /// Rolling mode, warm, window full of ordinary values, `reciprocal` = 1 / (rollingWindow - 1).
        case rolling
        /// Every step goes to ``generalStep(step:x:)``: disabled, warming up, filling, frozen but not yet
        /// locked, or an unusual value (non-finite or huge) in the window.
        case general
        /// Frozen mode, baseline locked: z against constants, and the window is no longer needed.
        case frozen
    }

    @usableFromInline var lane = Lane.general
    @usableFromInline var seen = 0
    @usableFromInline var window: SampleWindow
    @usableFromInline var moments = SlidingMoments()
    /// `1 / reciprocalCount`, recomputed only while the window fills.
    @usableFromInline var reciprocal = 1.0
    private var reciprocalCount = 1
    /// The frozen baseline's mean, variance, and std after the floor, once it locks.
    @usableFromInline var frozenMean = Double.nan
    @usableFromInline var frozenVariance = Double.nan
    @usableFromInline var frozenStd = Double.nan
    /// `settings.sigmaMultiplier` and rlwatch's `sigmaMultiplier * 1.5`, as plain stored doubles.
    @usableFromInline let warningThreshold: Double
    @usableFromInline let criticalThreshold: Double
    /// The quiet-step test's margins (see ``isCertainlyBelowWarning(_:_:)``), fixed by the settings.
    @usableFromInline let allowance: Double
    @usableFromInline let quietScale: Double
    /// For the last step, when its figures were estimated though it may fire: `seen` at that step and the
    /// sample its push dropped from the window, so that ``exactFigures(for:)`` can rebuild its baseline.
    private var estimatedStep: (seen: Int, dropped: Double?)?

    public init(settings: DetectorSettings = DetectorSettings()) {
        self.settings = settings
        window = SampleWindow(
            capacity: max(min(settings.rollingWindow, DetectorSettings.largestWindow) - 1, 1))
        let sigma = settings.sigmaMultiplier
        warningThreshold = sigma
        criticalThreshold = settings.criticalMultiplier
        allowance = 1e-9 * (1 + abs(sigma))
        let loweredSigma = sigma * (1 - 1e-9) - 1e-9
        quietScale = loweredSigma > 0 ? loweredSigma * loweredSigma * (1 - 1e-8) : 0
    }

    /// Runs the detector on one sample. Returns nil for a missing value (absent or null in the log), which
    /// rlwatch skips without counting, and when the detector is disabled.
    @inlinable @inline(__always)
    public mutating func check(step: Int64, value: Double?) -> StepVerdict? {
        guard let x = value else { return nil }
        switch lane {
        case .rolling:
            if SampleWindow.isOrdinary(x) {
                let estimate = moments.estimate(reciprocal: reciprocal)
                if !estimate.isLoose && isCertainlyBelowWarning(x, estimate) {
                    seen += 1
                    let oldest = window.replaceOldestDeferred(with: x)
                    moments.replace(oldest, with: x)
                    return StepVerdict(
                        step: step, value: x, status: .normal, mean: estimate.mean,
                        variance: estimate.variance,
                        isExact: false, usesFrozenBaseline: false)
                }
            }
        case .frozen:
            seen += 1
            return StepVerdict(
                step: step, value: x, status: status((x - frozenMean) / frozenStd), mean: frozenMean,
                variance: frozenVariance, isExact: true, usesFrozenBaseline: true)
        case .general:
            break
        }
        return generalStep(step: step, x: x)
    }

    /// Any step, from the state as the previous step left it; chooses the lane of the next step.
    @usableFromInline @inline(never)
    mutating func generalStep(step: Int64, x: Double) -> StepVerdict? {
        guard settings.enabled else { return nil }
        seen += 1
        window.settle()
        defer { chooseLane() }
        // The window holds exactly the rolling baseline: the samples before x.
        let lengthWithCurrent = window.count + 1
        if seen < settings.warmupSteps || lengthWithCurrent < Self.samplesBeforeAnyDecision {
            if settings.rollingWindow >= Self.samplesBeforeAnyDecision { push(x) }  // never decides nor locks
            return StepVerdict(
                step: step, value: x, status: .warmingUp, mean: .nan, variance: .nan, isExact: true,
                usesFrozenBaseline: false)
        }
        if settings.baselineMode == .frozen {
            if frozenBaseline == nil && lengthWithCurrent >= settings.rollingWindow {
                lockFrozenBaseline(at: step, including: x)
            }
            if frozenBaseline != nil {
                return StepVerdict(
                    step: step, value: x, status: status((x - frozenMean) / frozenStd), mean: frozenMean,
                    variance: frozenVariance, isExact: true, usesFrozenBaseline: true)
            }
        }
        let verdict = rollingVerdict(step: step, x: x)
        let dropped = push(x)
        estimatedStep = verdict.isExact || verdict.status == .normal ? nil : (seen, dropped)
        return verdict
    }

    /// numpy's exact mean, variance and z-score for `verdict`, the verdict the last ``check(step:value:)``
    /// returned, in O(window). The decision is already exact; for a step that fires, the figures may be the
    /// running estimate (within 1e-9 relative): this gives the doubles rlwatch reports, for the alerts a person
    /// is shown. Any other verdict is returned as it is.
    public func exactFigures(for verdict: StepVerdict) -> StepVerdict {
        guard !verdict.isExact, let estimatedStep, estimatedStep.seen == seen else { return verdict }
        // The step's baseline was the window before its value went in: the sample that push dropped (if the
        // window was full), then every sample but the newest.
        let dropped = estimatedStep.dropped
        let count = window.count - 1 + (dropped == nil ? 0 : 1)
        let (mean, variance) = withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * window.count + 2)
        {
            buffer in
            let base = buffer.baseAddress!
            let start = dropped == nil ? base : base + 1
            window.copyChronologically(into: start)
            if let dropped { base[0] = dropped }
            let values = UnsafeBufferPointer(start: base, count: count)
            let mean = NumpyStatistics.mean(values)
            return (mean, NumpyStatistics.variance(values, mean: mean, scratch: base + window.count + 1))
        }
        var exact = verdict
        exact.mean = mean
        exact.variance = variance
        exact.isExact = true
        assert(exact.status == status(exact.z), "an estimated decision must be numpy's")
        return exact
    }

    private mutating func chooseLane() {
        if frozenBaseline != nil {
            lane = .frozen
        } else if settings.baselineMode == .rolling && settings.rollingWindow >= Self.samplesBeforeAnyDecision
            && window.isFull
            && window.unusualCount == 0 && seen + 1 >= settings.warmupSteps
        {
            if window.count != reciprocalCount { updateReciprocal() }
            lane = .rolling
        } else {
            lane = .general
        }
    }

    /// Adds x to the window, dropping the oldest sample when it is full; returns the sample dropped.
    @discardableResult
    private mutating func push(_ x: Double) -> Double? {
        if window.isFull {
            let oldest = window.replaceOldestCounting(with: x)
            switch (SampleWindow.isOrdinary(oldest), SampleWindow.isOrdinary(x)) {
            case (true, true): moments.replace(oldest, with: x)
            case (true, false): moments.remove(oldest)
            case (false, true): moments.add(x)
            case (false, false): break
            }
            return oldest
        } else {
            window.append(x)
            if SampleWindow.isOrdinary(x) { moments.add(x) }
            return nil
        }
    }

    private mutating func updateReciprocal() {
        reciprocalCount = window.count
        reciprocal = 1 / Double(window.count)
    }

    /// The z-score against the window as it stands (the baseline, without x): the running estimate when it
    /// is tight and the step certainly quiet, numpy's exact figures otherwise.
    private mutating func rollingVerdict(step: Int64, x: Double) -> StepVerdict {
        if window.nonFiniteCount > 0 {
            // numpy gives NaN std whenever the window holds NaN or an infinity, so z is NaN and silent.
            return StepVerdict(
                step: step, value: x, status: .normal, mean: window.nonFiniteMean, variance: .nan,
                isExact: true,
                usesFrozenBaseline: false)
        }
        if window.hugeCount == 0 && SampleWindow.isOrdinary(x) {
            if window.count != reciprocalCount { updateReciprocal() }
            var estimate = moments.estimate(reciprocal: reciprocal)
            if estimate.isLoose {
                rebuildMoments()
                estimate = moments.estimate(reciprocal: reciprocal)
            }
            if !estimate.isLoose, let status = certainStatus(x, estimate) {
                return StepVerdict(
                    step: step, value: x, status: status, mean: estimate.mean, variance: estimate.variance,
                    isExact: false, usesFrozenBaseline: false)
            }
        }
        let (mean, variance) = exactStatistics()
        let z = (x - mean) / Self.floored(variance.squareRoot())
        return StepVerdict(
            step: step, value: x, status: status(z), mean: mean, variance: variance, isExact: true,
            usesFrozenBaseline: false)
    }

    /// True when numpy's z-score for x is certainly not above the warning threshold σ, judged from a tight
    /// running estimate (mean `m`, variance `v`, `V = max(v, 1e-16)`) without a square root, a division or
    /// an unpredictable branch.
    ///
    /// The test: with `R = (x - m) + α·(|x| + |m|)`, `α = 1e-9·(1 + σ)`, the step is quiet when
    /// `max(R, 0)² < σ'²·(1 - 1e-8)·V`, `σ' = σ·(1 - 1e-9) - 1e-9` (never, if σ' ≤ 0). `max(R, 0)` folds
    /// the sign test `R < 0` into the compare: z's sign is a coin toss on quiet steps, and a branch on it was
    /// mispredicted about every other step (10.5 ns a step instead of 7.4 when measured). Why it is exact, with μ and v the exact mean and variance of the
    /// baseline, `s = max(√v, 1e-8)`, u the unit roundoff and n < 2^39:
    ///
    /// - numpy's pairwise mean is within `65u·(|μ| + √v)` of μ (its error is at most (25 + log2 n)·u of
    ///   `Σ|x_i|`, and `mean |x_i| ≤ |μ| + √v`); its two-pass variance is at least `v·(1 - 69u)`, since
    ///   squared deviations from any centre sum to at least those from μ; so its floored std is at least
    ///   `s·(1 - 36u)`.
    /// - rlwatch warns when `fl(fl(x - μ_np) / s_np) > σ`. Rounding is monotone and σ a double, so it stays
    ///   quiet whenever `(x - μ_np)·(1 + u) ≤ σ·s·(1 - 36u)`.
    /// - A tight estimate (``SlidingMoments/estimate(reciprocal:)``) has m within `1.03e-12·√V + u|m|` of μ
    ///   and v within `2.2e-10·V` of the exact variance, so `s ≥ √V·(1 - 1.1e-10)`.
    /// - Rounding of R costs at most `3u·(|x| + |m|)`; so `x - μ_np ≤ R + 1.04e-12·√V`: α, at least 1e-9,
    ///   absorbs every term in `|x| + |m|` (ours and numpy's, under 70u), and 1e-9·(1 + σ)·√V of the lowered
    ///   σ' absorbs the terms in √V.
    /// - The passed test bounds R by `σ'·√V·(1 - 0.49e-8)` (`quietScale` and the products round by a few u),
    ///   hence `(x - μ_np)·(1 + u) ≤ σ·√V·(1 - 0.49e-8)·(1 + u) < σ·s·(1 - 36u)`: the 1e-8 taken off the
    ///   variance covers the estimate's 2.2e-10 and numpy's 69u with room.
    ///
    /// And with σ ≥ 0 the critical threshold 1.5σ is above σ, so a step below the warning is normal.
    @inlinable @inline(__always)
    func isCertainlyBelowWarning(_ x: Double, _ estimate: SlidingMoments.Estimate) -> Bool {
        let raisedDeviation = (x - estimate.mean) + allowance * (abs(x) + abs(estimate.mean))
        let above = raisedDeviation > 0 ? raisedDeviation : 0
        return above * above < quietScale * estimate.floorVariance
    }

    /// numpy's status for x, when a tight estimate settles it with room to spare; nil when numpy's figures
    /// must decide.
    ///
    /// Below the warning threshold, ``isCertainlyBelowWarning(_:_:)`` decides. Above it, the z-score from the
    /// estimate is compared with each threshold with a margin of 1e-8, relative and absolute. Why that is
    /// room to spare, with the bounds of ``isCertainlyBelowWarning(_:_:)`` (s the floored std):
    /// - with `|m| ≤ 1e4·s` (checked), numpy's mean is within `65u·(|μ| + s) < 7.3e-12·s` of μ and the
    ///   estimate's within `1.03e-12·s + u|m|`, so `x - μ_np` is within `1e-11·s` of `x - m`;
    /// - numpy's variance is `v + (μ - μ_np)²` within `70u` relative, and `(μ - μ_np)² < 6e-23·s²`; the
    ///   estimate's is within `2.2e-10·V`: the two floored stds agree to `1.2e-10` relative;
    /// - so numpy's z is the estimate's within `3e-10` relative plus `1.1e-11`, thirty times inside the margin.
    /// Without the bound on `|m|` (a mean huge against the spread), numpy's variance is dominated by its own
    /// rounding, and only numpy's figures can tell.
    @usableFromInline
    func certainStatus(_ x: Double, _ estimate: SlidingMoments.Estimate) -> StepStatus? {
        if isCertainlyBelowWarning(x, estimate) { return .normal }
        let std = estimate.floorVariance.squareRoot()
        guard abs(estimate.mean) <= 1e4 * std else { return nil }
        let z = (x - estimate.mean) / std
        let low = z * (1 - 1e-8) - 1e-8
        let high = z * (1 + 1e-8) + 1e-8
        guard low > warningThreshold || high < warningThreshold else { return nil }
        guard low > criticalThreshold || high < criticalThreshold else { return nil }
        return status(z)
    }

    /// rlwatch's `critical if z > σ·1.5, else warning if z > σ, else normal` (NaN is normal), as two
    /// compares and selects: in frozen mode a slow drift makes the level flip unpredictably.
    @inlinable @inline(__always)
    func status(_ z: Double) -> StepStatus {
        let warning: StepStatus = z > warningThreshold ? .warning : .normal
        return z > criticalThreshold ? .critical : warning
    }

    /// rlwatch's `if rolling_std < 1e-8: rolling_std = 1e-8` (NaN stays NaN).
    @inlinable @inline(__always)
    static func floored(_ std: Double) -> Double { std < 1e-8 ? 1e-8 : std }

    /// Locks the frozen baseline over the window and x: numpy's figures over all `rollingWindow` samples.
    /// From then on the window is not read again.
    private mutating func lockFrozenBaseline(at step: Int64, including x: Double) {
        let (mean, variance) = withScratch(appending: x) { base, count in
            let values = UnsafeBufferPointer(start: base, count: count)
            let mean = NumpyStatistics.mean(values)
            return (mean, NumpyStatistics.variance(values, mean: mean, scratch: base + count))
        }
        let baseline = FrozenBaseline(mean: mean, variance: variance, lockedAtStep: step)
        frozenBaseline = baseline
        frozenMean = mean
        frozenVariance = variance
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
        moments = window.withRuns { first, second in
            var moments = SlidingMoments()
            moments.rebuild(first, second)
            return moments
        }
    }

    /// Runs `body` on a chronological copy of the window (and `extra`, if given) followed by as much free
    /// space. Only the exact path and the frozen lock need it, so it is not kept between steps.
    private func withScratch<Result>(
        appending extra: Double? = nil, _ body: (UnsafeMutablePointer<Double>, Int) -> Result
    ) -> Result {
        let count = window.count + (extra == nil ? 0 : 1)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(2 * count, 1)) { buffer in
            let base = buffer.baseAddress!
            window.copyChronologically(into: base)
            if let extra { base[window.count] = extra }
            return body(base, count)
        }
    }
}
