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
    /// `--with-notes` (JSON Lines only): runs, renames, what reading found and notices go to the output
    /// between the steps, as ``RemoteStream`` reads them back on another machine.
    public var withNotes = false
    /// How `host:path` arguments are reached (`--ssh`, `--remote-kltop`).
    public var remote = RemoteOptions()

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
        var lastNotice: Notice?
        if request.format == .csv { sink.output("run,step,value") }
        var options = FollowOptions(
            metric: request.metric, pollInterval: request.pollInterval, forcePolling: request.forcePolling,
            inputFormat: request.inputFormat)
        options.streamNames = request.streamNames
        options.remote = request.remote
        let notes = request.withNotes && request.format == .jsonl
        let handle: (FollowEvent) -> Void = { event in
            switch event {
            case .runAppeared(_, let name, let path):
                runs.append((name, path, nil, ReadStatistics()))
                if notes { sink.output(StreamNotes.run(name: name, path: path)) }
            case .runNamed(let run, let name, _):
                if notes { sink.output(StreamNotes.renamed(run: runs[run].name, to: name)) }
                runs[run].name = name
            case .samples(let run, let samples, let metricKey, let statistics):
                let changed = runs[run].metricKey != metricKey || runs[run].statistics != statistics
                runs[run].metricKey = metricKey
                runs[run].statistics = statistics
                for sample in samples {
                    sink.output(line(run: runs[run].name, sample: sample, format: request.format))
                }
                if notes && (changed || !samples.isEmpty) {
                    sink.output(StreamNotes.read(run: runs[run].name, metricKey: metricKey, statistics))
                }
            case .notice(let run, let notice) where notes:
                sink.output(StreamNotes.notice(run: run.map { runs[$0].name }, notice))
            case .logWithoutKL(let path, let statistics) where notes:
                sink.output(StreamNotes.withoutKL(path: path, statistics))
            case .runEnded(let run) where notes:
                sink.output(StreamNotes.ended(run: runs[run].name))
            case .notice(_, let notice):
                if request.follow {
                    // A connection's news is told on each of its runs; said once here.
                    guard notice != lastNotice else { return }
                    lastNotice = notice
                    sink.diagnostics("kltop: \(TerminalText.inert(notice.description))")
                } else if notice.kind == .readThroughTail {
                    sink.diagnostics("kltop: \(TerminalText.inert(notice.description))")
                } else if let problem = notice.problemWhenReadingToTheEnd {
                    failed = true
                    sink.diagnostics("kltop: \(TerminalText.inert(notice.path)): \(problem)")
                }
            case .sourcesListed, .logWithoutKL, .sourceDisagrees:
                if let note = ReadReport.sourceNote(
                    event, metricKey: request.metric.requestedKey, run: { (runs[$0].name, runs[$0].path) })
                {
                    sink.diagnostics(note)
                }
            case .runEnded, .recordedAlerts, .sourceSamples:
                break
            }
        }
        if request.follow {
            SourceDriver.follow(
                request.paths, options: options, shouldStop: shouldStop, handle: handle, afterRound: flush,
                caughtUp: { if notes { sink.output(StreamNotes.caughtUp) } })
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
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }
}
