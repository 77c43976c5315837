/// Where the z-score's mean and standard deviation come from.
public enum BaselineMode: String, Sendable, CaseIterable {
    /// The window before the current value, recomputed every step: follows slow drift, catches sharp spikes.
    case rolling
    /// Locked the first time the window is full, then never moves: catches slow drift.
    case frozen
}

/// The KL-explosion detector's settings, named and defaulted as in rlwatch's `KLExplosionConfig`.
public struct DetectorSettings: Sendable, Equatable {
    /// Warning above this many standard deviations; critical above 1.5 times it.
    public var sigmaMultiplier: Double
    /// Number of samples kept; the rolling baseline is the window minus the current value.
    public var rollingWindow: Int
    /// Samples (not step numbers) seen before any decision is made.
    public var warmupSteps: Int
    public var baselineMode: BaselineMode
    /// PPO's clip range; rlwatch only carries it into alerts for context.
    public var clipRegion: Double
    /// `enabled: false` in an rlwatch.yaml turns the detector off entirely.
    public var enabled: Bool

    public init(
        sigmaMultiplier: Double = 3.0,
        rollingWindow: Int = 100,
        warmupSteps: Int = 20,
        baselineMode: BaselineMode = .rolling,
        clipRegion: Double = 0.2,
        enabled: Bool = true
    ) {
        self.sigmaMultiplier = sigmaMultiplier
        self.rollingWindow = rollingWindow
        self.warmupSteps = warmupSteps
        self.baselineMode = baselineMode
        self.clipRegion = clipRegion
        self.enabled = enabled
    }

    /// The largest rolling window kltop accepts: the detector holds its window in memory from the start (8
    /// bytes a sample, 80 MB here), where rlwatch's deque grows as samples come. Found by fuzzing
    /// rlwatch.yaml: `rolling_window: 333333333333` passed the checks, then the allocation killed kltop.
    public static let maximumRollingWindow = 10_000_000

    /// The z-score above which a step is critical: computed as rlwatch does (`threshold * 1.5`).
    public var criticalMultiplier: Double { sigmaMultiplier * 1.5 }

    /// Why these settings cannot be used, or nil when they can.
    ///
    /// rlwatch accepts nonsense silently (a negative window makes Python's deque raise mid-run); kltop refuses
    /// it up front so that a typo in a config file is an error, not a run that never alerts.
    public var problem: String? {
        if !sigmaMultiplier.isFinite || sigmaMultiplier < 0 {
            return "sigma multiplier must be a finite number ≥ 0 (got \(sigmaMultiplier))"
        }
        if rollingWindow < 1 { return "rolling window must be at least 1 (got \(rollingWindow))" }
        if rollingWindow > Self.maximumRollingWindow {
            return "rolling window must be at most \(Self.maximumRollingWindow) (got \(rollingWindow))"
        }
        if warmupSteps < 0 { return "warmup steps must be ≥ 0 (got \(warmupSteps))" }
        if !clipRegion.isFinite { return "clip region must be a finite number (got \(clipRegion))" }
        return nil
    }
}
