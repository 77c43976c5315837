import LogFollowing

extension DashboardEvent {
    /// What following reports, as dashboard events. The dashboard and kltop-bench's cold open both feed
    /// logs to ``update(_:_:)`` through this, so that the benchmark measures what the dashboard does.
    public static func translating(_ event: FollowEvent) -> [DashboardEvent] {
        switch event {
        case .runAppeared(let run, let name, let path), .runNamed(let run, let name, let path):
            // Added again, a run is renamed.
            return [.runAdded(RunID(run), name: name, source: path)]
        case .samples(let run, let samples, let metricKey, let statistics):
            return [
                .runStatusChanged(RunID(run), .following),
                .samplesAppended(RunID(run), metricKey: metricKey, samples: samples, statistics: statistics),
            ]
        case .notice(let run?, let notice):
            switch notice.kind {
            case .waitingForFile: return [.runStatusChanged(RunID(run), .waitingForFile)]
            case .waitingForWriter: return [.runStatusChanged(RunID(run), .waitingForWriter)]
            case .streamEnded: return [.runStatusChanged(RunID(run), .ended)]
            case .disconnected: return [.runStatusChanged(RunID(run), .disconnected(notice.message))]
            case .permissionDenied, .notAFile, .cannotOpen, .cannotRead:
                return [.runStatusChanged(RunID(run), .unreadable(notice.message))]
            case .following, .rotated, .replacedByContinuation, .truncated, .nothingToFollowYet,
                .readThroughTail:
                return [.runStatusChanged(RunID(run), .following)]
            }
        case .recordedAlerts(let run, let alerts):
            return [.recordedAlertsAppended(RunID(run), alerts)]
        case .notice(nil, let notice):
            return [.sourceNoticed(path: notice.path, message: notice.message, isProblem: notice.isProblem)]
        case .runEnded(let run):
            return [.runStatusChanged(RunID(run), .ended)]
        case .sourceSamples(let run, let source, let samples, let metricKey, let statistics):
            return [
                .sourceSamplesAppended(
                    RunID(run), source: source, metricKey: metricKey, samples: samples, statistics: statistics
                )
            ]
        case .sourcesListed(let run, let paths, let primary):
            return [.sourcesListed(RunID(run), paths: paths, primary: primary)]
        case .logWithoutKL(let path, let statistics):
            return [.logWithoutKL(path: path, statistics: statistics)]
        case .sourceDisagrees(let run, let path, let note):
            return [.sourceDisagrees(RunID(run), path: path, note: note)]
        }
    }
}
