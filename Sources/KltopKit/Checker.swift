import KLDetector
import LogFollowing
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
    /// Keep reading and print each alert as it happens, until stopped or standard input ends.
    public var follow: Bool
    public var pollInterval: Double
    public var forcePolling: Bool
    /// `--input-format`: read every file as this format instead of recognising it.
    public var inputFormat: LogFormat?
    /// `--name`: names for the runs read from standard input and pipes.
    public var streamNames: [String] = []
    /// Where delivered alerts also go (`--follow` with channels configured, or `--on-alert`).
    public var courier: AlertCourier?
    /// How `host:path` arguments are reached (`--ssh`, `--remote-kltop`).
    public var remote = RemoteOptions()

    public init(
        paths: [String], detector: DetectorSettings = DetectorSettings(),
        policy: AlertPolicySettings = AlertPolicySettings(), metric: MetricSelection = .automatic,
        raw: Bool = false, format: AlertOutputFormat = .text, follow: Bool = false, pollInterval: Double = 1,
        forcePolling: Bool = false, inputFormat: LogFormat? = nil
    ) {
        self.inputFormat = inputFormat
        self.paths = paths
        self.detector = detector
        self.policy = policy
        self.metric = metric
        self.raw = raw
        self.format = format
        self.follow = follow
        self.pollInterval = pollInterval
        self.forcePolling = forcePolling
    }

    var followOptions: FollowOptions {
        var options = FollowOptions(
            metric: metric, pollInterval: pollInterval, forcePolling: forcePolling, inputFormat: inputFormat)
        options.streamNames = streamNames
        options.remote = remote
        return options
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

/// Where the headless commands write: results to `output`, notes and problems to `diagnostics`.
public struct CheckOutput {
    public var output: (String) -> Void
    public var diagnostics: (String) -> Void

    public init(output: @escaping (String) -> Void, diagnostics: @escaping (String) -> Void) {
        self.output = output
        self.diagnostics = diagnostics
    }
}

/// `kltop check`: reads each log (to its end, or following it), runs the detector, prints alerts.
public enum Checker {
    public static func run(
        _ request: CheckRequest, to sink: CheckOutput, shouldStop: () -> Bool = { false }
    ) -> CheckStatus {
        var session = CheckSession(request: request, sink: sink)
        if request.follow {
            SourceDriver.follow(
                request.paths, options: request.followOptions, shouldStop: shouldStop,
                handle: { session.handle($0) },
                afterRound: {
                    session.showDeliveryReports()
                    session.sayStaleRuns(now: SourceDriver.monotonicSeconds())
                },
                caughtUp: { request.courier?.caughtUp() })
            if let courier = request.courier {
                courier.finish(within: 5)
                session.showDeliveryReports()
            }
        } else {
            SourceDriver.readToEnd(request.paths, options: request.followOptions) { session.handle($0) }
        }
        return session.finish()
    }
}

/// The runs of one `check`, as their events arrive.
struct CheckSession {
    struct Run {
        var name: String
        var path: String
        var monitor: RunMonitor
        var metricKey: String?
        var statistics = ReadStatistics()
        var printedWarning = false
        var printedCritical = false
        var couldNotCheck = false
        /// Its source can deliver nothing more (standard input or a FIFO closed): the log is complete.
        var ended = false
        /// Following: when it last logged a step, and whether it was said to have gone quiet.
        var activity = RunActivity()
        var saidStale = false
        var lastStep: Int64?
    }

    let request: CheckRequest
    let sink: CheckOutput
    /// The paths named on the command line, spelled as the runs' paths are.
    let namedPaths: Set<String>
    var runs: [Run] = []
    var unusablePaths = false

    init(request: CheckRequest, sink: CheckOutput) {
        self.request = request
        self.sink = sink
        namedPaths = Set(request.paths.map(LogFollower.normalizedPath))
    }

    mutating func handle(_ event: FollowEvent) {
        switch event {
        case .runAppeared(let run, let name, let path):
            precondition(run == runs.count, "runs are numbered in order of appearance")
            runs.append(
                Run(
                    name: name, path: path,
                    monitor: RunMonitor(name: name, detector: request.detector, policy: request.policy)))
            request.courier?.seen(RunIdentity(name: name, source: LogFollower.absolutePath(path)))
        case .runNamed(let run, let name, let path):
            runs[run].name = name
            runs[run].monitor.name = name
            request.courier?.seen(RunIdentity(name: name, source: LogFollower.absolutePath(path)))
        case .samples(let run, let samples, let metricKey, let statistics):
            if runs[run].metricKey == nil, let metricKey, case .automatic = request.metric {
                let hint = ReadReport.whyOnlyUpdateSizeKL(metricKey: metricKey).map { "; " + $0 } ?? ""
                let updateSize =
                    KLKeyClass.of(metricKey) == .updateSize
                    ? " (approx KL: the update size, not KL to the reference model\(hint))" : ""
                sink.diagnostics(
                    "kltop: \(TerminalText.inert(runs[run].name)): reading KL from \"\(TerminalText.inert(metricKey))\""
                        + updateSize)
            }
            runs[run].metricKey = metricKey
            runs[run].statistics = statistics
            if request.follow && !samples.isEmpty {
                runs[run].activity.observe(at: SourceDriver.monotonicSeconds())
                if runs[run].saidStale {
                    runs[run].saidStale = false
                    sink.diagnostics("kltop: \(TerminalText.inert(runs[run].name)): logging again")
                }
            }
            if let last = samples.last { runs[run].lastStep = last.step }
            for sample in samples { observe(sample, run: run) }
        case .notice(let run, let notice):
            // Reading to the end, a path that is not there or not readable means the check could not be made;
            // following, it is news, and following goes on.
            if !request.follow, let problem = notice.problemWhenReadingToTheEnd {
                if let run { runs[run].couldNotCheck = true } else { unusablePaths = true }
                sink.diagnostics("kltop: \(TerminalText.inert(notice.path)): \(problem)")
            } else if request.follow || notice.kind == .readThroughTail {
                sink.diagnostics("kltop: \(TerminalText.inert(notice.description))")
            }
        case .recordedAlerts(let run, let alerts):
            // rlwatch's own alerts are shown as notes; the exit status is kltop's detector's.
            for alert in alerts {
                sink.diagnostics(
                    "kltop: \(TerminalText.inert(runs[run].name)): rlwatch recorded at step \(alert.step): "
                        + TerminalText.inert("\(alert.severity) \(alert.detector): \(alert.message)"))
            }
        case .runEnded(let run):
            runs[run].ended = true
        case .sourcesListed, .logWithoutKL, .sourceDisagrees:
            if let note = ReadReport.sourceNote(
                event, metricKey: request.metric.requestedKey, run: { (runs[$0].name, runs[$0].path) })
            {
                sink.diagnostics(note)
            }
        case .sourceSamples:
            break  // the run is checked on its primary source
        }
    }

    private mutating func observe(_ sample: MetricSample, run index: Int) {
        guard let observation = runs[index].monitor.observe(sample, exactFiguresForEveryAlert: request.raw),
            let alert = observation.alert
        else {
            return
        }
        guard request.raw || observation.isDelivered else { return }
        if alert.severity == .critical {
            runs[index].printedCritical = true
        } else {
            runs[index].printedWarning = true
        }
        if observation.isDelivered, let courier = request.courier {
            let run = runs[index]
            courier.send(
                AlertReport(
                    run: RunIdentity(name: run.name, source: LogFollower.absolutePath(run.path)),
                    metric: run.metricKey ?? "", alert: alert,
                    sigmaMultiplier: request.detector.sigmaMultiplier))
        }
        sink.output(
            AlertOutput.line(
                for: alert, run: runs[index].name, metric: runs[index].metricKey ?? "", format: request.format
            ))
    }

    /// Following: says once of each run that has gone quiet for much longer than it usually is (crashed,
    /// hung, lost its node; ``RunActivity``), unless its log says it finished.
    mutating func sayStaleRuns(now: Double) {
        for index in runs.indices where !runs[index].saidStale && !runs[index].ended {
            let run = runs[index]
            guard !run.statistics.runFinished, run.activity.isStale(at: now),
                let silence = run.activity.silence(at: now)
            else { continue }
            runs[index].saidStale = true
            let usual =
                run.activity.usualInterval.map { " (it logged about every \(RunActivity.describe($0)))" }
                ?? ""
            sink.diagnostics(
                "kltop: \(TerminalText.inert(run.name)): stale: no new step for \(RunActivity.describe(silence))\(usual)"
            )
            // Also to the alert channels, as an alert of its own kind.
            if let courier = request.courier, let lastStep = run.lastStep {
                courier.send(
                    StaleRunNotice(
                        run: RunIdentity(name: run.name, source: LogFollower.absolutePath(run.path)),
                        metric: run.metricKey ?? "", lastStep: lastStep, silence: silence,
                        usualInterval: run.activity.usualInterval))
            }
        }
    }

    /// What the delivery thread has to say: retries, undelivered alerts, the `--on-alert` command's output.
    func showDeliveryReports() {
        for report in request.courier?.takeReports() ?? [] { sink.diagnostics(report.line) }
    }

    /// Reports each run and returns the exit status.
    func finish() -> CheckStatus {
        var statuses: [CheckStatus] = unusablePaths ? [.unknown] : []
        for run in runs {
            if run.couldNotCheck {
                statuses.append(.unknown)
                continue
            }
            let shownName = TerminalText.inert(run.name)
            let statistics = run.statistics
            ReadReport.notes(run: run.name, statistics: statistics).forEach(sink.diagnostics)
            if let missing = ReadReport.noSamples(
                path: run.path, metricKey: run.metricKey, statistics: statistics, namedPaths: namedPaths)
            {
                // Following, a run may simply not have logged KL yet; read to its end, it was not checked.
                if request.follow && !run.ended {
                    sink.diagnostics("kltop: \(shownName): so far \(missing.reason)")
                } else {
                    sink.diagnostics(missing.note(run: run.name))
                    if !missing.isStrayFile { statuses.append(.unknown) }
                }
                continue
            }
            let metric = run.metricKey ?? ""
            if request.format == .text {
                sink.output(Checker.summary(of: run.monitor, statistics: statistics, metric: metric))
            }
            statuses.append(run.printedCritical ? .critical : (run.printedWarning ? .warning : .ok))
        }
        // Nothing checked at all (no runs, or only stray files) is not a pass; following, a run that has
        // not logged KL yet is no failure either.
        if statuses.isEmpty { return request.follow && !runs.isEmpty ? .ok : .unknown }
        return CheckStatus.combine(statuses)
    }
}

extension Checker {
    static func summary(of monitor: RunMonitor, statistics: ReadStatistics, metric: String) -> String {
        let delivered = monitor.deliveredWarnings + monitor.deliveredCriticals
        var parts = [
            "\(statistics.samples) KL samples (\"\(TerminalText.inert(metric))\") in \(statistics.records) records",
            "\(delivered) alert\(delivered == 1 ? "" : "s") delivered (\(monitor.deliveredWarnings) warning, "
                + "\(monitor.deliveredCriticals) critical) of \(monitor.raisedCount) raised",
        ]
        if statistics.missingValues > 0 { parts.append("\(statistics.missingValues) missing values") }
        if statistics.badLines > 0 { parts.append("\(ReadReport.badRecords(statistics)) skipped") }
        if statistics.heldAtEnd > 0 { parts.append("last record incomplete (still being written?)") }
        if let frozen = monitor.detector.frozenBaseline {
            parts.append(
                "baseline frozen at step \(frozen.lockedAtStep) (mean \(Figures.short(frozen.mean)), "
                    + "σ \(Figures.short(frozen.std)))")
        }
        return "\(TerminalText.inert(monitor.name)): " + parts.joined(separator: "; ")
    }
}
