import KLDetector
import RunLogs

/// One run being checked: feeds its samples to a ``RunMonitor``, prints alerts as they come, and at the end
/// the notes and summary `check` gives for a run.
struct RunCheck {
    let name: String
    let request: CheckRequest
    let sink: CheckOutput
    private(set) var monitor: RunMonitor
    private var printedWarning = false
    private var printedCritical = false

    init(name: String, request: CheckRequest, sink: CheckOutput) {
        self.name = name
        self.request = request
        self.sink = sink
        monitor = RunMonitor(name: name, detector: request.detector, policy: request.policy)
    }

    mutating func observe(_ sample: MetricSample, metric: String?) {
        guard let observation = monitor.observe(sample), let alert = observation.alert else { return }
        guard request.raw || observation.isDelivered else { return }
        if alert.severity == .critical { printedCritical = true } else { printedWarning = true }
        sink.output(AlertOutput.line(for: alert, run: name, metric: metric ?? "", format: request.format))
    }

    /// Reports what reading found and returns the run's status.
    func conclude(statistics: ReadStatistics, metric: String?) -> CheckStatus {
        let shownName = TerminalText.inert(name)
        if statistics.badLines > 0 {
            let binary = statistics.firstBadLines.contains { $0.byteOffset != nil }
            let noun = binary ? "record" : "line"
            let examples = statistics.firstBadLines.map { "\($0.location): \($0.reason)" }
            sink.diagnostics(
                "kltop: \(shownName): skipped \(statistics.badLines) bad \(noun)\(statistics.badLines == 1 ? "" : "s") ("
                    + TerminalText.inert(examples.joined(separator: "; "))
                    + (statistics.badLines > examples.count ? "; …" : "") + ")")
        }
        guard let metric else {
            sink.diagnostics(
                "kltop: \(shownName): no KL key found in \(statistics.records) records; looked for "
                    + MetricKeys.klAliases.joined(separator: ", ") + ". Name the key with --metric KEY.")
            return .unknown
        }
        if case .automatic = request.metric {
            sink.diagnostics("kltop: \(shownName): reading KL from \"\(TerminalText.inert(metric))\"")
        }
        if request.format == .text {
            sink.output(
                Checker.summary(of: monitor, statistics: statistics, metric: metric, raw: request.raw))
        }
        if printedCritical { return .critical }
        return printedWarning ? .warning : .ok
    }
}
