/// How serious an alert is, in rlwatch's words.
public enum Severity: String, Sendable, CaseIterable, Comparable {
    case warning
    case critical

    public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .critical }

    /// rlwatch's recommended action for a KL-explosion alert of this severity.
    public var recommendation: String {
        switch self {
        case .warning:
            "Monitor KL divergence closely. Consider increasing KL penalty coefficient if this trend continues."
        case .critical:
            "Immediately reduce learning rate or increase KL penalty. Consider reverting to a previous checkpoint."
        }
    }
}

/// A KL-explosion alert with the figures rlwatch puts in `metric_values`.
public struct Alert: Sendable, Equatable {
    /// rlwatch's name for this detector; the alert policy keys its cooldowns on it.
    public static let detector = "kl_explosion"

    public var step: Int64
    public var severity: Severity
    public var klDivergence: Double
    public var rollingMean: Double
    public var rollingStd: Double
    public var zScore: Double
    public var clipRegion: Double

    public init(
        step: Int64, severity: Severity, klDivergence: Double, rollingMean: Double, rollingStd: Double,
        zScore: Double, clipRegion: Double
    ) {
        self.step = step
        self.severity = severity
        self.klDivergence = klDivergence
        self.rollingMean = rollingMean
        self.rollingStd = rollingStd
        self.zScore = zScore
        self.clipRegion = clipRegion
    }

    public var recommendation: String { severity.recommendation }
}
