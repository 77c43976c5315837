/// What the detector concluded about one sample.
public enum StepStatus: UInt8, Sendable, Comparable {
    /// Not enough samples yet (warmup, or fewer than 10 in the window): no z-score.
    case warmingUp
    case normal
    case warning
    case critical

    public static func < (a: StepStatus, b: StepStatus) -> Bool { a.rawValue < b.rawValue }

    /// The alert severity this status raises, if any.
    public var severity: Severity? {
        switch self {
        case .warning: .warning
        case .critical: .critical
        case .warmingUp, .normal: nil
        }
    }
}

/// The detector's full state at one step, kept for the dashboard (band, colours) and for alerts.
///
/// It stores the baseline's variance and derives the standard deviation and z-score on demand: the square
/// root and the division are the costliest part of a step, and most steps never need them. Derived this
/// way they are the same doubles rlwatch computes (`np.std` is the square root of the variance; z is one
/// division), so nothing is lost by deferring them.
public struct StepVerdict: Sendable, Equatable {
    public var step: Int64
    public var value: Double
    public var status: StepStatus
    /// Baseline mean; NaN while warming up.
    public var mean: Double
    /// Baseline population variance (`np.var`), before rlwatch's floor; NaN while warming up.
    public var variance: Double
    /// True when mean and variance are numpy's exact doubles. Otherwise they are estimates within about
    /// 1e-10 relative, and the decision is still exact: it was taken with a margin wider than the estimate's
    /// error bound. ``KLExplosionDetector/exactFigures(for:)`` gives the exact ones for an alert.
    public var isExact: Bool
    /// True when the z-score was taken against the frozen baseline.
    public var usesFrozenBaseline: Bool

    @inlinable
    public init(
        step: Int64, value: Double, status: StepStatus, mean: Double, variance: Double, isExact: Bool,
        usesFrozenBaseline: Bool
    ) {
        self.step = step
        self.value = value
        self.status = status
        self.mean = mean
        self.variance = variance
        self.isExact = isExact
        self.usesFrozenBaseline = usesFrozenBaseline
    }

    /// Baseline standard deviation after rlwatch's 1e-8 floor, as the z-score uses it (NaN stays NaN).
    @inlinable public var std: Double { KLExplosionDetector.floored(max(variance, 0).squareRoot()) }

    /// `(value - mean) / std`, as rlwatch computes it.
    @inlinable public var z: Double { (value - mean) / std }

    /// The alert rlwatch's `KLExplosionDetector.check` would return for this step, if any.
    public func alert(clipRegion: Double) -> Alert? {
        guard let severity = status.severity else { return nil }
        return Alert(
            step: step, severity: severity, klDivergence: value, rollingMean: mean, rollingStd: std,
            zScore: z, clipRegion: clipRegion)
    }
}

/// The frozen baseline and when it locked.
public struct FrozenBaseline: Sendable, Equatable {
    public var mean: Double
    /// `np.var` of the window when it locked; `std` is its square root.
    public var variance: Double
    /// The logged step number at which the baseline locked.
    public var lockedAtStep: Int64

    /// Before the 1e-8 floor, as rlwatch stores it.
    @inlinable public var std: Double { variance.squareRoot() }
}
