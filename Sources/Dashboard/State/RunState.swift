import KLDetector
import KltopKit
import RunLogs

/// One watched run: its history, detector, alert policy and what its header shows.
///
/// The detector and policy are kept directly (``RunMonitor`` wraps the same two) so that a re-run can
/// replay the stored history through a fresh detector in one pass and carry on from its state.
public struct RunState: Sendable {
    public let id: RunID
    /// Sanitised (``TerminalText/inert(_:)``): safe to draw.
    public private(set) var name: String
    public private(set) var source: String
    public private(set) var metricKey: String?
    public private(set) var sourceStatus: RunSourceStatus = .waitingForFile
    public private(set) var statistics = ReadStatistics()
    public private(set) var history = RunHistory()
    public private(set) var detector: KLExplosionDetector
    private var policy: AlertPolicy
    /// Delivered alerts, oldest first.
    public private(set) var alerts: [Alert] = []
    /// For each of ``alerts``, when the dashboard delivered it (``DashboardState/alertSequence``): what
    /// "newest" means across runs, whose step numbers need not be comparable.
    public private(set) var deliveryOrder: [Int] = []
    /// Alerts rlwatch itself recorded in its store, oldest first, their texts sanitised.
    public private(set) var recordedAlerts: [RlwatchStoredAlert] = []
    private var acknowledged: Set<AlertKey> = []
    /// The verdict on the newest sample (exact doubles; the history keeps `Float` bands).
    public private(set) var lastVerdict: StepVerdict?
    /// The history index at which the frozen baseline locked.
    public private(set) var frozenLockIndex: Int?
    /// The logs the run was found in, when there are several (``DashboardEvent/sourcesListed``), and which
    /// of them ``history`` is: f switches.
    public private(set) var sources: [RunSource] = []
    public private(set) var shownSource = 0
    /// What the header shows (refreshed on ticks).
    public internal(set) var figures = RunFigures()
    var rateMeter = RateMeter()
    /// When samples last arrived (the dashboard's clock) and how often they do: ordering by activity, and
    /// telling a stale run (``RunActivity``).
    public internal(set) var activity = RunActivity()
    public var lastActivity: Double? { activity.lastActivity }
    /// Silent for longer than its usual interval allows (set on ticks), and not finished or closed.
    public internal(set) var isStale = false
    /// Whole minutes of silence, while stale: what the header says (a frame a minute at most).
    public internal(set) var staleMinutes = 0
    /// The log says the run is over (``ReadStatistics/runFinished``).
    public var isFinished: Bool { statistics.runFinished }

    /// The worst pending severity (``pendingSeverityRank``) and when the newest pending alert of it was
    /// delivered (-1 without one).
    var pendingRank: (severity: Int, newest: Int) {
        let severity = pendingSeverityRank
        guard severity > 0 else { return (0, -1) }
        var newest = -1
        for (index, alert) in alerts.enumerated() where !isAcknowledged(alert) {
            if (alert.severity == .critical ? 2 : 1) == severity {
                newest = max(newest, deliveryOrder[index])
            }
        }
        return (severity, newest)
    }

    /// 2 with an unacknowledged critical, 1 with an unacknowledged warning, else 0.
    public var pendingSeverityRank: Int {
        var rank = 0
        for alert in alerts where !isAcknowledged(alert) {
            rank = max(rank, alert.severity == .critical ? 2 : 1)
            if rank == 2 { break }
        }
        return rank
    }

    init(id: RunID, name: String, source: String, settings: DetectorSettings, policy: AlertPolicySettings) {
        self.id = id
        self.name = TerminalText.inert(name)
        self.source = TerminalText.inert(source)
        detector = KLExplosionDetector(settings: settings)
        self.policy = AlertPolicy(settings: policy)
    }

    mutating func rename(_ name: String, source: String) {
        self.name = TerminalText.inert(name)
        self.source = TerminalText.inert(source)
    }

    /// The run's logs, as following lists them; `primary` is the one following reports as `samplesAppended`.
    mutating func listSources(_ paths: [String], primary: Int) {
        let first = sources.isEmpty
        for (index, path) in paths.enumerated() where index >= sources.count {
            sources.append(RunSource(path: TerminalText.inert(path)))
        }
        if first { shownSource = primary }
        followedPrimary = primary
    }

    mutating func noteDisagreement(path: String, _ note: String) {
        if let index = sources.firstIndex(where: { $0.path == path }) { sources[index].disagreement = note }
    }

    /// The source following reports as the run's own samples.
    private(set) var followedPrimary = 0

    /// Samples of source `index` of ``sources``: the shown one's go through the detector, the others' are
    /// kept for switching to.
    mutating func appendToSource(
        _ index: Int, _ samples: [MetricSample], metricKey: String?, statistics: ReadStatistics,
        sequence: inout Int
    ) -> [Alert] {
        guard sources.indices.contains(index), index != shownSource else {
            return append(samples, metricKey: metricKey, statistics: statistics, sequence: &sequence)
        }
        if let metricKey { sources[index].metricKey = TerminalText.inert(metricKey) }
        sources[index].statistics = statistics
        for sample in samples {
            sources[index].history.append(step: sample.step, value: sample.value, verdict: nil)
        }
        return []
    }

    /// Shows the next of the run's sources: its history takes the place of the shown one's, and the
    /// detector is re-run over it (as for a tuning key: nothing is delivered).
    mutating func showNextSource(settings: DetectorSettings, policy: AlertPolicySettings) -> Bool {
        guard sources.count > 1 else { return false }
        let next = (shownSource + 1) % sources.count
        sources[shownSource].history = history
        sources[shownSource].metricKey = metricKey
        sources[shownSource].statistics = statistics
        history = sources[next].history
        metricKey = sources[next].metricKey
        statistics = sources[next].statistics
        sources[next].history = RunHistory()
        shownSource = next
        _ = rerun(settings: settings, policy: policy, captureIndex: nil)
        return true
    }

    mutating func record(_ alerts: [RlwatchStoredAlert]) {
        recordedAlerts += alerts.map { alert in
            var alert = alert
            alert.run = TerminalText.inert(alert.run)
            alert.detector = TerminalText.inert(alert.detector)
            alert.severity = TerminalText.inert(alert.severity)
            alert.message = TerminalText.inert(alert.message)
            return alert
        }
    }

    mutating func setStatus(_ status: RunSourceStatus) {
        if case .unreadable(let message) = status {
            sourceStatus = .unreadable(TerminalText.inert(message))
        } else if case .disconnected(let message) = status {
            sourceStatus = .disconnected(TerminalText.inert(message))
        } else {
            sourceStatus = status
        }
    }

    /// Feeds new samples through the detector and the alert policy; returns the alerts delivered, each
    /// numbered from `sequence` on.
    mutating func append(
        _ samples: [MetricSample], metricKey: String?, statistics: ReadStatistics, sequence: inout Int
    ) -> [Alert] {
        if let metricKey { self.metricKey = TerminalText.inert(metricKey) }
        self.statistics = statistics
        // Records read mean the file is there and being read, with KL in them or not.
        if (!samples.isEmpty || statistics.records > 0) && sourceStatus != .ended {
            sourceStatus = .following
        }
        var delivered: [Alert] = []
        for sample in samples {
            let verdict = detector.check(step: sample.step, value: sample.value)
            if frozenLockIndex == nil && detector.frozenBaseline != nil { frozenLockIndex = history.count }
            history.append(step: sample.step, value: sample.value, verdict: verdict)
            lastVerdict = verdict
            if let alert = verdict?.alert(clipRegion: detector.settings.clipRegion), policy.admit(alert) {
                alerts.append(alert)
                deliveryOrder.append(sequence)
                sequence += 1
                delivered.append(alert)
            }
        }
        return delivered
    }

    /// Re-runs the detector and the alert policy over the whole history with new settings. Returns the
    /// verdict at index `captureIndex` (what a paused view shows), if asked. The new alerts have no delivery
    /// order until ``renumber(_:as:)`` gives them one.
    mutating func rerun(
        settings: DetectorSettings, policy policySettings: AlertPolicySettings, captureIndex: Int?
    )
        -> StepVerdict?
    {
        var newDetector = KLExplosionDetector(settings: settings)
        var newPolicy = AlertPolicy(settings: policySettings)
        var newAlerts: [Alert] = []
        var lockIndex: Int?
        var captured: StepVerdict?
        var last: StepVerdict?
        let clipRegion = settings.clipRegion
        history.replay(with: &newDetector) { index, verdict in
            last = verdict
            if index == captureIndex { captured = verdict }
            guard let verdict else { return }
            if lockIndex == nil && verdict.usesFrozenBaseline { lockIndex = index }
            if verdict.status >= .warning, let alert = verdict.alert(clipRegion: clipRegion),
                newPolicy.admit(alert)
            {
                newAlerts.append(alert)
            }
        }
        detector = newDetector
        policy = newPolicy
        alerts = newAlerts
        deliveryOrder = Array(repeating: 0, count: newAlerts.count)
        lastVerdict = last
        frozenLockIndex = lockIndex
        return captured
    }

    /// Sets the delivery order of alert `index` (after a re-run).
    mutating func renumber(_ index: Int, as order: Int) { deliveryOrder[index] = order }

    /// The channels each alert could not be delivered to.
    private(set) var undelivered: [AlertKey: [String]] = [:]

    mutating func markUndelivered(_ key: AlertKey, channel: String) {
        if undelivered[key]?.contains(channel) != true { undelivered[key, default: []].append(channel) }
    }

    func undeliveredChannels(_ alert: Alert) -> [String] {
        undelivered[AlertKey(step: alert.step, severity: alert.severity)] ?? []
    }

    func isAcknowledged(_ alert: Alert) -> Bool {
        acknowledged.contains(AlertKey(step: alert.step, severity: alert.severity))
    }

    /// Why records arrive but nothing is plotted: the log has no KL key kltop knows, or not the one named.
    /// Nil once there is a sample (or before any record).
    public var keyProblem: KeyProblem? {
        guard history.isEmpty, statistics.records > 0 else { return nil }
        guard let metricKey else {
            let keys = statistics.keysSeen
            return .noKnownKey(
                records: statistics.records, reason: ReadReport.whyNoKL(keysSeen: keys),
                keys: keys.prefix(KeyProblem.keysShown).map(TerminalText.inert),
                moreKeys: max(0, keys.count - KeyProblem.keysShown))
        }
        return .noValues(key: metricKey, records: statistics.records)
    }

    mutating func acknowledgeAll() {
        for alert in alerts { acknowledged.insert(AlertKey(step: alert.step, severity: alert.severity)) }
    }

    /// Copies the live numbers into the header's figures, as of the first `count` samples.
    mutating func refreshFigures(count: Int, verdict: StepVerdict?) {
        var figures = RunFigures()
        figures.sampleCount = count
        if count > 0 {
            figures.step = history.step(at: count - 1)
            figures.value = history.value(at: count - 1)
            figures.verdict = verdict
        }
        figures.stepsPerSecond = rateMeter.rate
        figures.badLines = statistics.badLines
        figures.heldAtEnd = statistics.heldAtEnd
        if let lock = frozenLockIndex, lock < count { figures.frozenBaseline = detector.frozenBaseline }
        self.figures = figures
    }
}

/// Records were read, but none held a KL value (``RunState/keyProblem``).
public enum KeyProblem: Equatable, Sendable {
    /// None of ``MetricKeys/klAliases`` is in the log: `--metric KEY` must name the key. `reason` is why,
    /// where the keys show it (``ReadReport/whyNoKL(keysSeen:)``: TRL's GRPO with `beta` 0, only mismatch or
    /// coefficient keys); `keys` the first keys the log holds, sanitised, and `moreKeys` how many others.
    case noKnownKey(records: Int, reason: String?, keys: [String], moreKeys: Int)
    /// The key in use (named with `--metric`) holds no number in any record.
    case noValues(key: String, records: Int)

    /// Keys listed on a panel: enough to see what the log holds, few enough for a small one.
    static let keysShown = 6
}

/// One of the logs a run was found in (``RunState/sources``).
public struct RunSource: Sendable {
    /// Sanitised: safe to draw.
    public var path: String
    public var metricKey: String?
    public var statistics = ReadStatistics()
    /// How it differs from the series first shown (``DashboardEvent/sourceDisagrees``), if it does.
    public var disagreement: String?
    /// Its samples while another source is shown (empty for the shown one: that is the run's history).
    var history = RunHistory()

    init(path: String) { self.path = path }
}
