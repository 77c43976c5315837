import KLDetector

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Delivers alerts to their channels on a thread of its own, so that no endpoint ever holds up reading
/// or the screen: the loop hands each delivered alert over (``send(_:)``) and goes on.
///
/// - **Retries**: an endpoint that fails (unreachable, timed out, a 5xx, a 429 with its `Retry-After`) is
///   tried again with backoff (1, 2, 4 … 60 s) for up to ``giveUpAfter`` (10 minutes); then the alert is
///   reported undelivered. A failure that trying again cannot mend (a 4xx, a refused login, a template that
///   makes no JSON) is reported at once.
/// - **Nothing sent twice**: what each channel was given is kept in a ``DeliveryLedger``; a restarted kltop
///   re-reads the logs, raises the same alerts again, and sends only those the ledger does not hold, so
///   alerts raised while kltop was down are sent once when it comes back.
/// - **No flood from the past**: a run a channel has never been given anything for (no ledger yet: kltop
///   started on a log with history) gets one summary of the alerts its history raised (``caughtUp()``
///   says where the history ends), then only new ones.
///
/// What happens is told through ``takeReports()``, to be shown by the loop's own thread.
public final class AlertCourier: @unchecked Sendable {
    public struct Report: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// A channel failed; the alert is being tried again.
            case retrying
            /// Given up on: after ``giveUpAfter`` of retries, a failure retrying cannot mend, or kltop stopping.
            case undelivered
            /// A line the `--on-alert` command printed.
            case commandOutput
            /// The ledger cannot be kept.
            case ledgerProblem
        }

        public var kind: Kind
        public var channel: String
        public var run: String?
        public var step: Int64?
        public var severity: Severity?
        /// Worded for the user; never holds a URL or a password.
        public var message: String

        /// The line `check` prints: `kltop: slack: ppo, step 120 (critical): not delivered yet (…)`.
        public var line: String {
            var about = ""
            if let run, let step {
                about =
                    "\(TerminalText.inert(run)), step \(step)" + (severity.map { " (\($0.rawValue))" } ?? "")
                    + ": "
            }
            if kind == .commandOutput { return "kltop: \(channel): \(TerminalText.inert(message))" }
            return "kltop: \(channel): \(about)\(TerminalText.inert(message))"
        }
    }

    public let channels: [AlertChannel]
    let giveUpAfter: Double
    private let ledger: DeliveryLedger?
    private let transport: @Sendable (AlertChannel, AlertMessage, (String) -> Void) -> SendOutcome
    private let clock: @Sendable () -> Double

    /// Shared with the delivery thread, under `condition`'s lock.
    private let condition = ThreadCondition()
    private var inputs: [Input] = []
    private var reports: [Report] = []
    private var finished = false
    /// Readable while reports wait to be taken.
    public let reportsReady: WakePipe
    private var thread: pthread_t?

    private enum Input {
        case seen(RunIdentity, metric: String)
        case alert(AlertReport)
        case stale(StaleRunNotice)
        case caughtUp
        case stop(deadline: Double)
    }

    public init(
        channels: [AlertChannel], ledgerDirectory: String?, giveUpAfter: Double = 600,
        transport: (@Sendable (AlertChannel, AlertMessage, (String) -> Void) -> SendOutcome)? = nil,
        clock: (@Sendable () -> Double)? = nil
    ) throws(BackgroundFollower.StartError) {
        self.channels = channels
        self.giveUpAfter = giveUpAfter
        ledger = ledgerDirectory.map(DeliveryLedger.init(directory:))
        self.transport = transport ?? { $0.send($1, timestamp: DeliveryClock.timestamp(), output: $2) }
        self.clock = clock ?? DeliveryClock.now
        reportsReady = try WakePipe()
        thread = try startSignalFreeThread(purpose: "deliver alerts") { [self] in self.deliveryLoop() }
    }

    /// Where the ledger is kept: `$XDG_STATE_HOME/kltop/delivered` (`~/.local/state/kltop/delivered`).
    public static func defaultLedgerDirectory(environment: [String: String]) -> String? {
        DeliveryLedger.defaultDirectory(environment: environment)
    }

    /// The channels' names, for the dashboard's help: `slack, email, --on-alert`.
    public var channelNames: [String] { channels.map(\.name) }

    // MARK: - What the loop hands over (any thread, never waits)

    /// A run appeared: it is known to the ledger from now on, even if it never raises an alert.
    public func seen(_ run: RunIdentity, metric: String = "") { hand(.seen(run, metric: metric)) }

    /// An alert the policy delivered.
    public func send(_ report: AlertReport) { hand(.alert(report)) }

    /// A run went quiet (sent once per channel and silence, as an alert is; before kltop has caught up
    /// with the logs' past nothing is stale yet, so it is only ever new).
    public func send(_ notice: StaleRunNotice) { hand(.stale(notice)) }

    /// Everything the logs held when kltop started has been read: alerts raised so far are the runs' past.
    public func caughtUp() { hand(.caughtUp) }

    /// Reports waiting, oldest first.
    public func takeReports() -> [Report] {
        condition.lock()
        defer { condition.unlock() }
        reportsReady.clear()
        let taken = reports
        reports.removeAll()
        return taken
    }

    /// Stops: what is being sent gets up to `seconds` to go out, then every alert still waiting is reported
    /// undelivered (the ledger does not hold it, so a restart sends it).
    public func finish(within seconds: Double) {
        hand(.stop(deadline: clock() + seconds))
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    deinit {
        if thread != nil { finish(within: 0) }
        reportsReady.close()
    }

    private func hand(_ input: Input) {
        condition.lock()
        inputs.append(input)
        condition.signal()
        condition.unlock()
    }

    private func report(_ report: Report) {
        condition.lock()
        reports.append(report)
        reportsReady.signal()
        condition.unlock()
    }

    // MARK: - The delivery thread

    private struct Job {
        var notification: AlertMessage
        var channel: Int
        /// What the ledger records once it is delivered.
        var keys: [DeliveryKey]
        var firstTried: Double?
        var attempts = 0
        var due: Double
    }

    private func deliveryLoop() {
        var jobs: [Job] = []
        var past: [RunIdentity: [AlertReport]] = [:]
        var seenRuns: [RunIdentity: String] = [:]
        var hasCaughtUp = false
        var failing = Set<Int>()
        var stopDeadline: Double?
        var ledgerProblemSaid = false
        while true {
            condition.lock()
            while inputs.isEmpty && stopDeadline == nil {
                let next = jobs.map(\.due).min()
                if let next, next <= clock() { break }
                if let next {
                    condition.wait(seconds: next - clock())
                } else {
                    condition.wait()
                }
            }
            let taken = inputs
            inputs.removeAll()
            condition.unlock()

            for input in taken {
                switch input {
                case .seen(let run, let metric):
                    if seenRuns[run] == nil { seenRuns[run] = metric }
                    if hasCaughtUp { markKnown(run) }
                case .alert(let alert):
                    if hasCaughtUp {
                        jobs += newJobs(for: alert)
                    } else {
                        past[alert.run, default: []].append(alert)
                    }
                case .stale(let notice):
                    let key = DeliveryKey(step: notice.lastStep, severity: .warning, isStale: true)
                    let pending = jobs
                    jobs += channels.indices.compactMap { index in
                        if let ledger, ledger.delivered(notice.run, channels[index].name).contains(key) {
                            return nil
                        }
                        if pending.contains(where: {
                            $0.channel == index && $0.notification.run == notice.run && $0.keys == [key]
                        }) {
                            return nil
                        }
                        return Job(notification: .stale(notice), channel: index, keys: [key], due: clock())
                    }
                case .caughtUp where !hasCaughtUp:
                    hasCaughtUp = true
                    for run in Set(seenRuns.keys).union(past.keys).sorted(by: { $0.name < $1.name }) {
                        jobs += pastJobs(run: run, alerts: past[run] ?? [], metric: seenRuns[run] ?? "")
                    }
                    past.removeAll()
                case .caughtUp: break
                case .stop(let deadline): stopDeadline = deadline
                }
            }
            if let problem = ledger?.problem, !ledgerProblemSaid {
                ledgerProblemSaid = true
                report(Report(kind: .ledgerProblem, channel: "ledger", message: problem))
            }

            if let deadline = stopDeadline {
                // Stopping: one more try of what is due, then the rest is reported.
                if clock() < deadline {
                    jobs = attempt(jobs.filter { $0.attempts == 0 }, &failing, stopping: true)
                }
                for job in jobs {
                    undelivered(
                        job, "kltop stopped before it could be delivered; it is sent when kltop runs again")
                }
                return
            }
            let now = clock()
            let due = jobs.filter { $0.due <= now }
            jobs.removeAll { $0.due <= now }
            jobs += attempt(due, &failing, stopping: false)
        }
    }

    /// Tries each job once; returns those to try again.
    private func attempt(_ jobs: [Job], _ failing: inout Set<Int>, stopping: Bool) -> [Job] {
        var again: [Job] = []
        for var job in jobs {
            let channel = channels[job.channel]
            let start = clock()
            if job.firstTried == nil { job.firstTried = start }
            job.attempts += 1
            let outcome = transport(channel, job.notification) { [self] line in
                report(
                    Report(
                        kind: .commandOutput, channel: channel.name, run: job.notification.run.name,
                        step: job.notification.step, severity: job.notification.severity, message: line))
            }
            switch outcome {
            case .delivered:
                failing.remove(job.channel)
                ledger?.record(job.keys, job.notification.run, channel.name)
            case .failed(let reason):
                undelivered(job, reason)
            case .retry(let reason, let after):
                let delay = max(after ?? 0, min(60, pow(2, Double(job.attempts - 1))))
                let now = clock()
                if stopping || now + delay - job.firstTried! > giveUpAfter {
                    undelivered(
                        job,
                        stopping ? reason : "\(reason); gave up after \(Self.minutes(now - job.firstTried!))")
                    continue
                }
                if !failing.contains(job.channel) {
                    failing.insert(job.channel)
                    report(
                        Report(
                            kind: .retrying, channel: channel.name, run: job.notification.run.name,
                            step: job.notification.step, severity: job.notification.severity,
                            message: "not delivered yet (\(reason)); trying again for up to "
                                + Self.minutes(giveUpAfter)))
                }
                job.due = now + delay
                again.append(job)
            }
        }
        return again
    }

    private func undelivered(_ job: Job, _ reason: String) {
        report(
            Report(
                kind: .undelivered, channel: channels[job.channel].name, run: job.notification.run.name,
                step: job.notification.step, severity: job.notification.severity,
                message: "not delivered: \(reason)"))
    }

    /// A new alert: to every channel the ledger does not say has it.
    private func newJobs(for alert: AlertReport) -> [Job] {
        let key = DeliveryKey(step: alert.alert.step, severity: alert.alert.severity)
        return channels.indices.compactMap { index in
            if let ledger, ledger.delivered(alert.run, channels[index].name).contains(key) { return nil }
            return Job(notification: .alert(alert), channel: index, keys: [key], due: clock())
        }
    }

    /// The alerts a run's history raised before kltop caught up: for a channel that knows the run, those it
    /// was not given (raised while kltop was down); for one that does not, one summary.
    private func pastJobs(run: RunIdentity, alerts: [AlertReport], metric: String) -> [Job] {
        var jobs: [Job] = []
        let keys = alerts.map { DeliveryKey(step: $0.alert.step, severity: $0.alert.severity) }
        for index in channels.indices {
            let name = channels[index].name
            if let ledger, ledger.isKnown(run, name) {
                let given = ledger.delivered(run, name)
                for (alert, key) in zip(alerts, keys) where !given.contains(key) {
                    jobs.append(Job(notification: .alert(alert), channel: index, keys: [key], due: clock()))
                }
            } else if let worst = alerts.max(by: {
                ($0.alert.severity, $0.alert.zScore) < ($1.alert.severity, $1.alert.zScore)
            }) {
                let summary = PastAlertsSummary(
                    run: run, metric: worst.metric, warnings: alerts.count { $0.alert.severity == .warning },
                    criticals: alerts.count { $0.alert.severity == .critical }, worst: worst.alert,
                    lastStep: alerts.map(\.alert.step).max() ?? worst.alert.step)
                jobs.append(Job(notification: .summary(summary), channel: index, keys: keys, due: clock()))
            } else {
                ledger?.record([], run, name)
            }
        }
        return jobs
    }

    private func markKnown(_ run: RunIdentity) {
        guard let ledger else { return }
        for channel in channels where !ledger.isKnown(run, channel.name) {
            ledger.record([], run, channel.name)
        }
    }

    private static func minutes(_ seconds: Double) -> String {
        seconds >= 90 ? "\(Int((seconds / 60).rounded())) minutes" : "\(Int(seconds.rounded())) s"
    }
}
