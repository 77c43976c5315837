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
    /// `--input-format`: read every file as this format instead of recognising it.
    public var inputFormat: LogFormat?

    public init(
        paths: [String], detector: DetectorSettings = DetectorSettings(),
        policy: AlertPolicySettings = AlertPolicySettings(), metric: MetricSelection = .automatic,
        raw: Bool = false, format: AlertOutputFormat = .text, inputFormat: LogFormat? = nil
    ) {
        self.inputFormat = inputFormat
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
///
/// A path is a log file of any format kltop reads (recognised from its content, or `--input-format`), a
/// directory of TensorBoard runs (each folder holding event files is a run, its files read in name order),
/// or rlwatch's metrics.db (each run in it is checked).
public enum Checker {
    public static func run(_ request: CheckRequest, to sink: CheckOutput) -> CheckStatus {
        let targets = request.paths.flatMap { CheckTarget.resolve($0, forced: request.inputFormat) }
        let names = RunNaming.uniqueNames(forPaths: targets.map(\.namingPath))
        var statuses: [CheckStatus] = []
        for (target, name) in zip(targets, names) {
            switch target {
            case .file(let path, let format):
                statuses.append(
                    checkStream(
                        files: [path], name: name, reader: format.makeReader(metric: request.metric), request,
                        sink))
            case .eventFiles(_, let files):
                statuses.append(
                    checkStream(
                        files: files, name: name, reader: TensorBoardEventReader(metric: request.metric),
                        request, sink))
            case .store(let path):
                statuses += checkStore(path: path, request, sink)
            case .failed(_, let message):
                sink.diagnostics("kltop: \(TerminalText.inert(message))")
                statuses.append(.unknown)
            }
        }
        return CheckStatus.combine(statuses)
    }

    /// Reads `files` one after another into one reader (one run), finishing each.
    static func checkStream(
        files: [String], name: String, reader: any SampleReader, _ request: CheckRequest, _ sink: CheckOutput
    ) -> CheckStatus {
        var reader = reader
        var run = RunCheck(name: name, request: request, sink: sink)
        var batch: [MetricSample] = []
        do {
            for path in files {
                try LogFile.readChunks(path: path) { chunk in
                    if let chunk {
                        reader.consume(chunk) { batch.append($0) }
                    } else {
                        reader.finish { batch.append($0) }
                    }
                    for sample in batch { run.observe(sample, metric: reader.metricKey) }
                    batch.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            sink.diagnostics("kltop: \(TerminalText.inert(error.description))")
            return .unknown
        }
        return run.conclude(statistics: reader.statistics, metric: reader.metricKey)
    }

    /// Checks every run in rlwatch's store, and shows the alerts rlwatch itself recorded (as notes: the exit
    /// status is kltop's own detector's).
    static func checkStore(path: String, _ request: CheckRequest, _ sink: CheckOutput) -> [CheckStatus] {
        let updates: [RunUpdate]
        let metric: String
        do {
            let reader = try RlwatchStoreReader(path: path, metric: request.metric)
            metric = reader.metricKey
            updates = try reader.poll()
        } catch {
            sink.diagnostics("kltop: \(TerminalText.inert(error.description))")
            return [.unknown]
        }
        if updates.isEmpty {
            sink.diagnostics("kltop: \(TerminalText.inert(path)): no runs in the store yet")
            return [.unknown]
        }
        return updates.map { update in
            var run = RunCheck(name: update.run, request: request, sink: sink)
            for sample in update.samples { run.observe(sample, metric: metric) }
            for alert in update.alerts {
                sink.diagnostics(
                    "kltop: \(TerminalText.inert(update.run)): rlwatch recorded at step \(alert.step): "
                        + TerminalText.inert("\(alert.severity) \(alert.detector): \(alert.message)"))
            }
            var statistics = ReadStatistics()
            statistics.records = update.rows
            statistics.samples = update.samples.count
            statistics.missingValues = update.missingValues
            return run.conclude(statistics: statistics, metric: metric)
        }
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
        if statistics.badLines > 0 {
            let noun = statistics.firstBadLines.contains { $0.byteOffset != nil } ? "records" : "lines"
            parts.append("\(statistics.badLines) bad \(noun) skipped")
        }
        if statistics.ignoredLines > 0 { parts.append("\(statistics.ignoredLines) other lines ignored") }
        if let frozen = monitor.detector.frozenBaseline {
            parts.append(
                "baseline frozen at step \(frozen.lockedAtStep) (mean \(Figures.short(frozen.mean)), "
                    + "σ \(Figures.short(frozen.std)))")
        }
        return "\(TerminalText.inert(monitor.name)): " + parts.joined(separator: "; ")
    }
}
