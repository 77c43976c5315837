import KLDetector
import RunLogs

/// Everything `kltop check` needs to know.
public struct CheckRequest: Sendable {
    public var paths: [String]
    public var detector: DetectorSettings
    public var policy: AlertPolicySettings
    public var metric: MetricSelection
    /// Print every step where the detector fires, without the alert policy.
    public var raw: Bool
    public var format: AlertOutputFormat

    public init(
        paths: [String], detector: DetectorSettings = DetectorSettings(),
        policy: AlertPolicySettings = AlertPolicySettings(), metric: MetricSelection = .automatic,
        raw: Bool = false, format: AlertOutputFormat = .text
    ) {
        self.paths = paths
        self.detector = detector
        self.policy = policy
        self.metric = metric
        self.raw = raw
        self.format = format
    }
}

/// Exit statuses as monitoring plugins use them.
public enum CheckStatus: Int32, Sendable {
    case ok = 0
    case warning = 1
    case critical = 2
    /// A path or the configuration could not be checked; the reason went to stderr.
    case unknown = 3

    /// The status of several runs: any critical wins (it needs a person now), then anything unchecked,
    /// then warnings.
    static func combine(_ statuses: [CheckStatus]) -> CheckStatus {
        if statuses.contains(.critical) { return .critical }
        if statuses.contains(.unknown) { return .unknown }
        if statuses.contains(.warning) { return .warning }
        return .ok
    }
}

/// Where `check` writes: alert lines and summaries to `output`, notes and problems to `diagnostics`.
public struct CheckOutput {
    public var output: (String) -> Void
    public var diagnostics: (String) -> Void

    public init(output: @escaping (String) -> Void, diagnostics: @escaping (String) -> Void) {
        self.output = output
        self.diagnostics = diagnostics
    }
}

/// `kltop check`: reads each log to its end, runs the detector, prints alerts.
public enum Checker {
    public static func run(_ request: CheckRequest, to sink: CheckOutput) -> CheckStatus {
        let names = RunNaming.uniqueNames(forPaths: request.paths)
        var statuses: [CheckStatus] = []
        for (path, name) in zip(request.paths, names) {
            statuses.append(check(path: path, name: name, request, sink))
        }
        return CheckStatus.combine(statuses)
    }

    static func check(path: String, name: String, _ request: CheckRequest, _ sink: CheckOutput) -> CheckStatus
    {
        var monitor = RunMonitor(name: name, detector: request.detector, policy: request.policy)
        var reader = JSONLReader(metric: request.metric)
        var printedWarning = false
        var printedCritical = false
        let shownName = TerminalText.inert(name)
        var batch: [MetricSample] = []
        do {
            try LogFile.readChunks(path: path) { chunk in
                if let chunk {
                    reader.consume(chunk) { batch.append($0) }
                } else {
                    reader.finish { batch.append($0) }
                }
                for sample in batch {
                    guard let observation = monitor.observe(sample), let alert = observation.alert else {
                        continue
                    }
                    guard request.raw || observation.isDelivered else { continue }
                    if alert.severity == .critical { printedCritical = true } else { printedWarning = true }
                    let metric = reader.metricKey ?? ""
                    sink.output(
                        AlertOutput.line(for: alert, run: name, metric: metric, format: request.format))
                }
                batch.removeAll(keepingCapacity: true)
            }
        } catch {
            sink.diagnostics("kltop: \(TerminalText.inert(error.description))")
            return .unknown
        }
        let statistics = reader.statistics
        if statistics.badLines > 0 {
            let examples = statistics.firstBadLines.map { "line \($0.lineNumber): \($0.reason)" }
            sink.diagnostics(
                "kltop: \(shownName): skipped \(statistics.badLines) bad line\(statistics.badLines == 1 ? "" : "s") ("
                    + examples.joined(separator: "; ") + (statistics.badLines > examples.count ? "; …" : "")
                    + ")")
        }
        guard let metric = reader.metricKey else {
            sink.diagnostics(
                "kltop: \(shownName): no KL key found in \(statistics.records) records; looked for "
                    + MetricKeys.klAliases.joined(separator: ", ") + ". Name the key with --metric KEY.")
            return .unknown
        }
        if case .automatic = request.metric {
            sink.diagnostics("kltop: \(shownName): reading KL from \"\(TerminalText.inert(metric))\"")
        }
        if request.format == .text {
            sink.output(summary(of: monitor, statistics: statistics, metric: metric, raw: request.raw))
        }
        if printedCritical { return .critical }
        return printedWarning ? .warning : .ok
    }

    static func summary(of monitor: RunMonitor, statistics: ReadStatistics, metric: String, raw: Bool)
        -> String
    {
        let delivered = monitor.deliveredWarnings + monitor.deliveredCriticals
        var parts = [
            "\(statistics.samples) KL samples (\"\(TerminalText.inert(metric))\") in \(statistics.records) records",
            "\(delivered) alert\(delivered == 1 ? "" : "s") delivered (\(monitor.deliveredWarnings) warning, "
                + "\(monitor.deliveredCriticals) critical) of \(monitor.raisedCount) raised",
        ]
        if statistics.missingValues > 0 { parts.append("\(statistics.missingValues) missing values") }
        if statistics.badLines > 0 { parts.append("\(statistics.badLines) bad lines skipped") }
        if let frozen = monitor.detector.frozenBaseline {
            parts.append(
                "baseline frozen at step \(frozen.lockedAtStep) (mean \(Figures.short(frozen.mean)), "
                    + "σ \(Figures.short(frozen.std)))")
        }
        return "\(TerminalText.inert(monitor.name)): " + parts.joined(separator: "; ")
    }
}
