import Foundation
import LogFollowing
import RunLogs
import TestSupport

/// Drives a ``LogFollower`` the way `SourceDriver` does, with a clock the test moves, and collects what it
/// reports.
final class Following {
    let follower: LogFollower
    private(set) var now = 1000.0
    /// Run names, by run number.
    private(set) var runs: [String] = []
    /// The path each run was reported with.
    private(set) var sources: [String] = []
    private(set) var samples: [(run: String, sample: MetricSample)] = []
    private(set) var notices: [Notice] = []
    /// Runs whose source said it can deliver nothing more.
    private(set) var ended: [String] = []
    private(set) var statistics: [String: ReadStatistics] = [:]
    /// The logs of runs found in several, by run name.
    private(set) var sourcesOfRun: [String: [String]] = [:]
    private(set) var logsWithoutKL: [String] = []
    private(set) var disagreements: [(run: String, path: String, note: String)] = []

    init(_ arguments: [String], pollInterval: Double = 1, options: FollowOptions? = nil) {
        var options = options ?? FollowOptions()
        options.pollInterval = pollInterval
        follower = LogFollower(arguments: arguments, options: options)
    }

    /// Moves the clock on by `seconds`, then polls until nothing more is waiting; returns the steps reported.
    /// With the default poll interval of 1 s, a poll after 10 s makes a full check of every source; one
    /// after 0.01 s only looks at what inotify said changed.
    @discardableResult
    func poll(after seconds: Double = 10) -> [Int64] {
        now += seconds
        let before = samples.count
        while follower.poll(now: now, emit: handle) {}
        return samples[before...].map(\.sample.step)
    }

    /// Reading to the end, as `check` does: every file is taken as complete.
    func finish() { follower.finishAll(emit: handle) }

    func steps(_ run: String) -> [Int64] { samples.filter { $0.run == run }.map(\.sample.step) }

    private func handle(_ event: FollowEvent) {
        switch event {
        case .runAppeared(let run, let name, let path):
            precondition(run == runs.count)
            runs.append(name)
            sources.append(path)
        case .runNamed(let run, let name, _):
            runs[run] = name
        case .samples(let run, let new, _, let statistics):
            samples += new.map { (runs[run], $0) }
            self.statistics[runs[run]] = statistics
        case .notice(_, let notice): notices.append(notice)
        case .runEnded(let run): ended.append(runs[run])
        case .sourcesListed(let run, let paths, _): sourcesOfRun[runs[run]] = paths
        case .logWithoutKL(let path, _): logsWithoutKL.append(path)
        case .sourceDisagrees(let run, let path, let note): disagreements.append((runs[run], path, note))
        case .recordedAlerts, .sourceSamples: break
        }
    }
}

/// Writes `bytes` at `path` (replacing what was there), making the folders it needs.
func write(_ bytes: [UInt8], to path: URL) throws {
    try FileManager.default.createDirectory(
        at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: path)
}

func write(_ text: String, to path: URL) throws { try write(Array(text.utf8), to: path) }

/// A trainer_state.json as transformers writes it (pretty-printed), with a `kl` entry per step and, if
/// asked, the summary entry that ends training.
func trainerState(steps: ClosedRange<Int>, summary: Bool = false) -> String {
    var entries = steps.map { "    {\n      \"kl\": \(Double($0) / 1000),\n      \"step\": \($0)\n    }" }
    if summary {
        entries.append("    {\n      \"step\": \(steps.upperBound),\n      \"train_runtime\": 12.5\n    }")
    }
    return "{\n  \"global_step\": \(steps.upperBound),\n  \"log_history\": [\n"
        + entries.joined(separator: ",\n") + "\n  ]\n}\n"
}

/// An event file with a `train/kl` scalar for each step.
func eventFile(steps: Range<Int>) -> [UInt8] {
    TFRecordEncoding.file(scalars: steps.map { (Int64($0), "train/kl", Float($0) / 1000) })
}
