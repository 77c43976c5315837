import LogFollowing
import RunLogs

/// `kltop export`'s output formats.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// `{"run": ..., "step": ..., "value": ...}` per step.
    case jsonl
    /// `run,step,value` with a header row.
    case csv
}

/// What `kltop export` needs to know.
public struct ExportRequest: Sendable {
    public var paths: [String]
    public var metric: MetricSelection
    public var format: ExportFormat
    public var follow: Bool
    public var pollInterval: Double
    public var forcePolling: Bool
    public var inputFormat: LogFormat?
    /// `--name`: names for the runs read from standard input and pipes.
    public var streamNames: [String] = []

    public init(
        paths: [String], metric: MetricSelection = .automatic, format: ExportFormat = .jsonl,
        follow: Bool = false,
        pollInterval: Double = 1, forcePolling: Bool = false, inputFormat: LogFormat? = nil
    ) {
        self.inputFormat = inputFormat
        self.paths = paths
        self.metric = metric
        self.format = format
        self.follow = follow
        self.pollInterval = pollInterval
        self.forcePolling = forcePolling
    }
}

/// `kltop export`: every step kltop read, normalized, so that any supported log can go into other tools
/// (and so that tests can prove nothing was lost or read twice).
public enum Exporter {
    /// Returns the exit status: 0, or 3 when a path could not be read or a run named on the command line
    /// (or holding records) gave no KL sample. Bad lines and steps that had to be replaced are noted on
    /// stderr at the end, as `check` notes them.
    public static func run(
        _ request: ExportRequest, to sink: CheckOutput, flush: () -> Void = {},
        shouldStop: () -> Bool = { false }
    ) -> Int32 {
        var runs: [(name: String, path: String, metricKey: String?, statistics: ReadStatistics)] = []
        var failed = false
        if request.format == .csv { sink.output("run,step,value") }
        var options = FollowOptions(
            metric: request.metric, pollInterval: request.pollInterval, forcePolling: request.forcePolling,
            inputFormat: request.inputFormat)
        options.streamNames = request.streamNames
        let handle: (FollowEvent) -> Void = { event in
            switch event {
            case .runAppeared(_, let name, let path):
                runs.append((name, path, nil, ReadStatistics()))
            case .runNamed(let run, let name, _):
                runs[run].name = name
            case .samples(let run, let samples, let metricKey, let statistics):
                runs[run].metricKey = metricKey
                runs[run].statistics = statistics
                for sample in samples {
                    sink.output(line(run: runs[run].name, sample: sample, format: request.format))
                }
            case .notice(_, let notice):
                if request.follow {
                    sink.diagnostics("kltop: \(TerminalText.inert(notice.description))")
                } else if let problem = notice.problemWhenReadingToTheEnd {
                    failed = true
                    sink.diagnostics("kltop: \(TerminalText.inert(notice.path)): \(problem)")
                }
            case .sourcesListed, .logWithoutKL, .sourceDisagrees:
                if let note = ReadReport.sourceNote(event, run: { (runs[$0].name, runs[$0].path) }) {
                    sink.diagnostics(note)
                }
            case .runEnded, .recordedAlerts, .sourceSamples:
                break
            }
        }
        if request.follow {
            SourceDriver.follow(
                request.paths, options: options, shouldStop: shouldStop, handle: handle, afterRound: flush)
        } else {
            SourceDriver.readToEnd(request.paths, options: options, handle: handle)
        }
        flush()
        let namedPaths = Set(request.paths.map(LogFollower.normalizedPath))
        for run in runs {
            ReadReport.notes(run: run.name, statistics: run.statistics).forEach(sink.diagnostics)
            guard
                let missing = ReadReport.noSamples(
                    path: run.path, metricKey: run.metricKey, statistics: run.statistics,
                    namedPaths: namedPaths)
            else { continue }
            sink.diagnostics(missing.note(run: run.name))
            if !missing.isStrayFile && !request.follow { failed = true }
        }
        return failed ? 3 : 0
    }

    public static func line(run: String, sample: MetricSample, format: ExportFormat) -> String {
        switch format {
        case .jsonl:
            return
                "{\"run\": \(JSONText.string(run)), \"step\": \(sample.step), \"value\": \(JSONText.number(sample.value))}"
        case .csv:
            let value =
                sample.value.isNaN
                ? "nan" : (sample.value.isInfinite ? (sample.value > 0 ? "inf" : "-inf") : "\(sample.value)")
            return "\(csvField(TerminalText.inert(run))),\(sample.step),\(value)"
        }
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
