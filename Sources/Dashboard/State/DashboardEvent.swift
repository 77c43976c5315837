import KLDetector
import RunLogs

/// Everything that can happen to the dashboard; ``update(_:_:)`` is the only way its state changes.
public enum DashboardEvent: Sendable {
    /// A run to watch. `name` and `source` (the path, or "demo: spike") come from outside and are shown
    /// sanitised. Adding an id twice renames the run.
    case runAdded(RunID, name: String, source: String)
    /// New samples read from a run's log, in order, with the KL key in use and the reader's statistics so
    /// far (they replace the previous ones: bad lines skipped, records read).
    case samplesAppended(RunID, metricKey: String?, samples: [MetricSample], statistics: ReadStatistics)
    /// New samples of one of a run's other logs (numbered as ``sourcesListed(_:paths:primary:)`` lists them).
    case sourceSamplesAppended(
        RunID, source: Int, metricKey: String?, samples: [MetricSample], statistics: ReadStatistics)
    /// The logs a run was found in; `primary` is the one whose samples come as ``samplesAppended``.
    case sourcesListed(RunID, paths: [String], primary: Int)
    /// One of a run's other logs disagrees with its series (shown with the sources on the help screen).
    case sourceDisagrees(RunID, path: String, note: String)
    /// A log found beside the runs that holds no KL: listed on the help screen with its keys.
    case logWithoutKL(path: String, statistics: ReadStatistics)
    case runStatusChanged(RunID, RunSourceStatus)
    /// Alerts rlwatch itself recorded for a run read from its store: listed in the alert history beside
    /// kltop's own (they are rlwatch's decisions, with its settings, and take no part in kltop's banners).
    case recordedAlertsAppended(RunID, [RlwatchStoredAlert])
    /// The delivery thread gave up sending an alert to a channel: marked in the alert history.
    case alertUndelivered(RunID, step: Int64, severity: Severity, channel: String)
    /// A line about delivery (a retry, an alert given up on, a line the `--on-alert` command printed): the
    /// last ``DashboardState/maximumDeliveryLines`` are kept for the alert history screen. Shown sanitised.
    case deliveryReported(String)
    /// What following says about a PATH rather than a run: a folder with no run logs in it yet, one that
    /// cannot be listed, a store that cannot be opened. `path` and `message` are shown sanitised; a later
    /// notice for the same path replaces the earlier one.
    case sourceNoticed(path: String, message: String, isProblem: Bool)
    case keyPressed(Key)
    case resized(width: Int, height: Int)
    /// The clock, in seconds from any fixed origin (a monotonic clock). Send a few times a second: steps per
    /// second and the numbers in headers are refreshed on ticks, at most every
    /// ``ViewOptions/figureInterval`` seconds, so fast logs do not rewrite them on every step.
    case tick(time: Double)
}

/// What ``update(_:_:)`` asks the terminal layer to do: side effects as values.
public enum DashboardEffect: Equatable, Sendable {
    /// Leave the dashboard (q): restore the terminal and exit.
    case quit
    /// New alerts were delivered (the worst severity among them; one per batch of samples): ring the
    /// terminal bell if the user wants that (a side pane out of sight).
    case bell(Severity)
    /// A run's new samples delivered these alerts (never a re-run of the history after a tuning key): for
    /// the channels alerts go to.
    case alertsDelivered(RunID, [Alert])
    /// A tick refreshed numbers the screen shows: draw a frame. Every other event changes what is shown
    /// and calls for a frame anyway; a tick that changed nothing (silent runs) asks for none, so an idle
    /// dashboard renders nothing at all.
    case figuresChanged
}
