import KLDetector

/// Everything the dashboard shows, as a value: runs, settings, view options, focus, pause, alerts.
///
/// Changed only by ``update(_:_:)``; drawn by ``render(_:width:height:)``. The terminal layer holds one,
/// feeds it events and paints what render returns.
public struct DashboardState: Sendable {
    /// Detector settings every run uses; the tuning keys change them and re-run the detector.
    public internal(set) var settings: DetectorSettings
    public internal(set) var policy: AlertPolicySettings
    public var options: ViewOptions
    public internal(set) var runs: [RunState] = []
    /// Index into ``runs`` of the focused run.
    public internal(set) var focus = 0
    /// Until a focus key is pressed, the focus follows the first run in ``runOrder`` (the worst one).
    var focusFollowsOrder = true
    /// r: the order runs are shown in.
    public internal(set) var order = RunOrder.severity
    /// /: the text run names are filtered by (a substring), and whether it is being typed.
    public internal(set) var filter = ""
    public internal(set) var isTypingFilter = false
    public internal(set) var screen = Screen.runs
    /// First line shown on the help and alert-history screens.
    public internal(set) var scroll = 0
    /// i: the inspect cursor, while it is on.
    public internal(set) var inspect: InspectCursor?
    /// p: samples shown per run while paused (the view is frozen there; reading goes on). Nil: live.
    public internal(set) var pausedCounts: [RunID: Int]?
    /// The last tick's time, and when the header figures were last refreshed.
    public internal(set) var now: Double?
    var lastFigureRefresh: Double?
    /// The delivery number the next alert gets (``RunState/deliveryOrder``).
    var alertSequence = 0
    /// What following last said about each PATH that is not a run (``DashboardEvent/sourceNoticed``), in
    /// the order the paths were first mentioned; at most ``maximumSourceNotices``, the oldest dropped.
    public internal(set) var sourceNotices: [SourceNotice] = []
    static let maximumSourceNotices = 32
    /// Logs found beside the runs that hold no KL (``DashboardEvent/logWithoutKL``): not runs, listed on
    /// the help screen.
    public internal(set) var logsWithoutKL: [LogWithoutKL] = []
    /// The last lines about delivery (``DashboardEvent/deliveryReported``), oldest first.
    public internal(set) var deliveryLines: [String] = []
    static let maximumDeliveryLines = 50
    /// The last size the terminal reported; render takes its size as arguments, this is for paging.
    public internal(set) var size: (width: Int, height: Int) = (80, 24)

    public init(
        settings: DetectorSettings = DetectorSettings(), policy: AlertPolicySettings = AlertPolicySettings(),
        options: ViewOptions = ViewOptions()
    ) {
        self.settings = settings
        self.policy = policy
        self.options = options
    }

    public var isPaused: Bool { pausedCounts != nil }

    /// How many of a run's samples the view shows: all of them, or as many as when p was pressed.
    public func visibleCount(of run: RunState) -> Int {
        guard let pausedCounts else { return run.history.count }
        return min(run.history.count, pausedCounts[run.id] ?? 0)
    }

    /// Samples that arrived since the view was paused, over all runs.
    public var samplesSincePause: Int {
        guard isPaused else { return 0 }
        return runs.reduce(0) { $0 + $1.history.count - visibleCount(of: $1) }
    }

    public var focusedRun: RunState? { runs.indices.contains(focus) ? runs[focus] : nil }

    /// Indices into ``runs`` of the runs shown, in the order shown: those whose name holds the filter, by
    /// ``order``. Severity: runs with a pending critical, then a pending warning, then the others; within
    /// each, the most recently active first. A sweep of hundreds of runs opens on the ones in trouble.
    public var runOrder: [Int] {
        let shown = runs.indices.filter {
            filter.isEmpty || runs[$0].name.containsIgnoringCase(filter)
        }
        func activity(_ index: Int) -> Double { runs[index].lastActivity ?? -.infinity }
        switch order {
        case .severity:
            // As the banners are ordered: worst pending severity, then its newest alert, so that the focused
            // run is the top banner's.
            let ranks = Dictionary(uniqueKeysWithValues: shown.map { ($0, runs[$0].pendingRank) })
            return shown.sorted { a, b in
                let (left, right) = (ranks[a]!, ranks[b]!)
                if left.severity != right.severity { return left.severity > right.severity }
                if left.newest != right.newest { return left.newest > right.newest }
                if activity(a) != activity(b) { return activity(a) > activity(b) }
                return a < b
            }
        case .name:
            return shown.sorted { a, b in
                runs[a].name != runs[b].name ? runs[a].name < runs[b].name : a < b
            }
        case .activity:
            return shown.sorted { a, b in activity(a) != activity(b) ? activity(a) > activity(b) : a < b }
        }
    }

    /// How many runs have a pending critical, a pending warning, or neither (the status bar's counts).
    public var severityCounts: (critical: Int, warning: Int, quiet: Int) {
        var counts = (critical: 0, warning: 0, quiet: 0)
        for run in runs {
            switch run.pendingSeverityRank {
            case 2: counts.critical += 1
            case 1: counts.warning += 1
            default: counts.quiet += 1
            }
        }
        return counts
    }

    func index(of id: RunID) -> Int? { runs.firstIndex { $0.id == id } }

    /// Every delivered alert, newest first.
    public var alertHistory: [AlertRecord] {
        var records: [AlertRecord] = []
        for run in runs {
            for alert in run.alerts {
                var record = AlertRecord(run: run.id, alert: alert, isAcknowledged: run.isAcknowledged(alert))
                record.undeliveredTo = run.undeliveredChannels(alert)
                records.append(record)
            }
        }
        return records.sorted { a, b in
            a.alert.step != b.alert.step ? a.alert.step > b.alert.step : a.run < b.run
        }
    }

    /// The banners to show, most urgent first: per run with unacknowledged alerts, its worst pending alert
    /// (the latest of that severity); criticals before warnings, then the most recently delivered first, so
    /// that a new critical is never below older ones (and never among the runs left out).
    public var banners: [Banner] {
        var result: [Banner] = []
        for run in runs {
            var worst: Int?
            var pending = 0
            for (index, alert) in run.alerts.enumerated() where !run.isAcknowledged(alert) {
                pending += 1
                if let current = worst {
                    let best = run.alerts[current]
                    if alert.severity > best.severity
                        || (alert.severity == best.severity && alert.step >= best.step)
                    {
                        worst = index
                    }
                } else {
                    worst = index
                }
            }
            guard let worst else { continue }
            result.append(
                Banner(run: run, alert: run.alerts[worst], pending: pending, order: run.deliveryOrder[worst]))
        }
        return result.sorted { a, b in
            if a.alert.severity != b.alert.severity { return a.alert.severity > b.alert.severity }
            if a.order != b.order { return a.order > b.order }
            return a.run.id < b.run.id
        }
    }
}

/// A run's banner: its most urgent pending alert, and how many alerts it has pending.
public struct Banner: Sendable {
    public var run: RunState
    public var alert: Alert
    public var pending: Int
    /// When ``alert`` was delivered (``RunState/deliveryOrder``): larger is newer.
    public var order: Int
}

/// A notice about a PATH that is not (yet) a run, shown while there are no runs and counted in the status bar
/// when it is a problem.
public struct SourceNotice: Equatable, Sendable {
    /// Sanitised (``TerminalText/inert(_:)``), as the message: safe to draw.
    public var path: String
    public var message: String
    public var isProblem: Bool
}

/// A log found beside the runs that holds no KL: its path, how many records, some of its keys (sanitised).
public struct LogWithoutKL: Equatable, Sendable {
    public var path: String
    public var records: Int
    public var keys: [String]
    /// Why it holds no KL, where its keys show it (``ReadReport/whyNoKL(keysSeen:)``).
    public var reason: String?
}

/// The orders the r key goes through.
public enum RunOrder: String, CaseIterable, Sendable {
    case severity, name, activity

    var next: RunOrder {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

extension String {
    /// Whether `other` is in the text, case aside: both compared in Unicode's case-folded form (upper, then
    /// lower case, so that `ß` holds `SS`), as Foundation's case-insensitive search compared them.
    func containsIgnoringCase(_ other: String) -> Bool {
        uppercased().lowercased().contains(other.uppercased().lowercased())
    }
}
