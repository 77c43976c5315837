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
    public internal(set) var screen = Screen.runs
    /// First line shown on the help and alert-history screens.
    public internal(set) var scroll = 0
    /// p: samples shown per run while paused (the view is frozen there; reading goes on). Nil: live.
    public internal(set) var pausedCounts: [RunID: Int]?
    /// The last tick's time, and when the header figures were last refreshed.
    public internal(set) var now: Double?
    var lastFigureRefresh: Double?
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

    func index(of id: RunID) -> Int? { runs.firstIndex { $0.id == id } }

    /// Every delivered alert, newest first.
    public var alertHistory: [AlertRecord] {
        var records: [AlertRecord] = []
        for run in runs {
            for alert in run.alerts {
                records.append(
                    AlertRecord(run: run.id, alert: alert, isAcknowledged: run.isAcknowledged(alert)))
            }
        }
        return records.sorted { a, b in
            a.alert.step != b.alert.step ? a.alert.step > b.alert.step : a.run < b.run
        }
    }

    /// The banners to show: per run with unacknowledged alerts, its worst pending alert (the latest of that
    /// severity), criticals first; with how many are pending for that run.
    public var banners: [(run: RunState, alert: Alert, pending: Int)] {
        var result: [(run: RunState, alert: Alert, pending: Int)] = []
        for run in runs {
            let pending = run.pendingAlerts
            guard
                let worst = pending.max(by: { a, b in
                    a.severity != b.severity ? a.severity < b.severity : a.step < b.step
                })
            else { continue }
            result.append((run, worst, pending.count))
        }
        return result.sorted { a, b in
            a.alert.severity != b.alert.severity ? a.alert.severity > b.alert.severity : a.run.id < b.run.id
        }
    }
}
