import KLDetector

#if canImport(Glibc)
    import Glibc
#endif

/// A run as the ledger knows it across restarts: its name and where it is read from.
public struct RunIdentity: Hashable, Sendable {
    public var name: String
    public var source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}

/// An alert the policy delivered, with what every channel says about it.
public struct AlertReport: Sendable, Equatable {
    public var run: RunIdentity
    /// The key the KL series is read from.
    public var metric: String
    public var alert: Alert
    /// The σ multiplier the alert was decided with: rlwatch's message names the threshold.
    public var sigmaMultiplier: Double

    public init(run: RunIdentity, metric: String, alert: Alert, sigmaMultiplier: Double) {
        self.run = run
        self.metric = metric
        self.alert = alert
        self.sigmaMultiplier = sigmaMultiplier
    }

    /// rlwatch's message, word for word (`KL divergence explosion — KL=0.0827, 14.2σ above rolling mean
    /// (0.0101). Exceeds 4.5σ critical threshold.`).
    public var message: String {
        let kl = Self.format(alert.klDivergence, "%.4f")
        let z = Self.format(alert.zScore, "%.1f")
        let mean = Self.format(alert.rollingMean, "%.4f")
        switch alert.severity {
        case .critical:
            return "KL divergence explosion — KL=\(kl), \(z)σ above rolling mean (\(mean)). "
                + "Exceeds \(Self.format(sigmaMultiplier * 1.5, "%.1f"))σ critical threshold."
        case .warning:
            return "KL divergence elevated — KL=\(kl), \(z)σ above rolling mean (\(mean))."
        }
    }

    /// rlwatch's `metric_values`, in its order.
    public var metricValues: [(name: String, value: Double)] {
        [
            ("kl_divergence", alert.klDivergence), ("rolling_mean", alert.rollingMean),
            ("rolling_std", alert.rollingStd), ("z_score", alert.zScore), ("clip_region", alert.clipRegion),
        ]
    }

    /// Python's `%`-formatting of a float, with its spelling of the non-finite ones.
    static func format(_ value: Double, _ format: String) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
        return String(cString: buffer)
    }
}

/// What kltop found in a run's history when it first saw the run, without a ledger to say what was
/// delivered before: told in one message instead of one per alert.
public struct PastAlertsSummary: Sendable, Equatable {
    public var run: RunIdentity
    public var metric: String
    public var warnings: Int
    public var criticals: Int
    /// The alert with the highest z-score, critical first.
    public var worst: Alert
    public var lastStep: Int64

    public var message: String {
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        return "Before kltop started watching, this run raised \(count(warnings, "warning")) and "
            + "\(count(criticals, "critical")) (the last at step \(lastStep)); the worst: "
            + "\(worst.severity.rawValue) at step \(worst.step), KL=\(AlertReport.format(worst.klDivergence, "%.4f")), "
            + "z=\(AlertReport.format(worst.zScore, "%.1f")). Only new alerts are sent from now on."
    }
}

/// A run that went quiet for much longer than it usually is (``RunActivity``): crashed, hung, or lost its
/// node. Sent as a warning of its own kind, once per silence.
public struct StaleRunNotice: Sendable, Equatable {
    public var run: RunIdentity
    public var metric: String
    public var lastStep: Int64
    public var silence: Double
    public var usualInterval: Double?

    public init(run: RunIdentity, metric: String, lastStep: Int64, silence: Double, usualInterval: Double?) {
        self.run = run
        self.metric = metric
        self.lastStep = lastStep
        self.silence = silence
        self.usualInterval = usualInterval
    }

    public var message: String {
        let usual = usualInterval.map { " (it logged about every \(RunActivity.describe($0)))" } ?? ""
        return "No new step for \(RunActivity.describe(silence))\(usual); the last was step \(lastStep)."
    }

    public static let recommendation =
        "Check that the training process is alive (a crash, a hang, a lost node or a full disk)."
}

/// One thing to send.
public enum AlertMessage: Sendable, Equatable {
    case alert(AlertReport)
    case summary(PastAlertsSummary)
    case stale(StaleRunNotice)

    public var run: RunIdentity {
        switch self {
        case .alert(let report): report.run
        case .summary(let summary): summary.run
        case .stale(let notice): notice.run
        }
    }

    public var severity: Severity {
        switch self {
        case .alert(let report): report.alert.severity
        case .summary(let summary): summary.worst.severity
        case .stale: .warning
        }
    }

    public var step: Int64 {
        switch self {
        case .alert(let report): report.alert.step
        case .summary(let summary): summary.lastStep
        case .stale(let notice): notice.lastStep
        }
    }

    /// How a person would name it in a report: `run ppo, step 120 (critical)`.
    public var description: String {
        switch self {
        case .alert(let report):
            "\(report.run.name), step \(report.alert.step) (\(report.alert.severity.rawValue))"
        case .summary(let summary): "\(summary.run.name), the summary of its past alerts"
        case .stale(let notice): "\(notice.run.name), stale after step \(notice.lastStep)"
        }
    }
}
