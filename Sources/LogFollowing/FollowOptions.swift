import RunLogs

/// How sources are followed.
public struct FollowOptions: Sendable {
    public var metric: MetricSelection
    /// Seconds between checks of every file when polling. With inotify the same checks also run this often,
    /// as a safety net: network filesystems (NFS, Lustre) never deliver inotify events.
    public var pollInterval: Double
    /// Poll only, never use inotify (`--poll SECONDS`).
    public var forcePolling: Bool
    /// A record held without its newline is taken, if it is complete on its own, after the file has been
    /// quiet this long: the writer has clearly stopped.
    public var quietPeriod: Double
    /// Bytes read from one file per round before the others get their turn (back-pressure: a writer at 100k
    /// lines per second cannot starve the rest of the program or queue unbounded memory).
    public var bytesPerRound: Int
    /// `--input-format`: every file is read as this format; otherwise each file's is recognised from its
    /// first bytes.
    public var inputFormat: LogFormat?
    /// False when the files are read to their end once (`check` and `export` without `--follow`): what is
    /// there is read as it is, and no rewrite under way is waited out.
    public var follows = true
    /// `--name`: names for the runs read from standard input and pipes, in the order of the arguments.
    public var streamNames: [String] = []
    /// How `host:path` arguments are reached (`--ssh`, `--remote-kltop`).
    public var remote = RemoteOptions()

    public init(
        metric: MetricSelection = .automatic, pollInterval: Double = 1.0, forcePolling: Bool = false,
        quietPeriod: Double = 3.0, bytesPerRound: Int = 4 << 20, inputFormat: LogFormat? = nil
    ) {
        self.metric = metric
        self.pollInterval = pollInterval
        self.forcePolling = forcePolling
        self.quietPeriod = quietPeriod
        self.bytesPerRound = bytesPerRound
        self.inputFormat = inputFormat
    }

    /// The reader for one log: decompressed if it is compressed (whatever its name), its format from
    /// `--input-format`, or recognised from its first bytes and its name (a rotation's or compressed log's
    /// name is its log's: `train.jsonl.2.gz` is JSON Lines).
    func makeReader(path: String) -> any SampleReader {
        let name = RunLogFiles.join(
            RunLogFiles.parent(of: path), LogRotation.baseName(RunLogFiles.name(of: path)))
        return DecompressingReader(AutoDetectingReader(path: name, forcedFormat: inputFormat, metric: metric))
    }
}

/// What following reports, in the order it happened.
public enum FollowEvent: Sendable {
    /// A new run: a file named on the command line, or one that appeared in a watched directory. `path` is
    /// the file's, or for a run written to several files (a TensorBoard run, a trainer's checkpoints) its
    /// folder's.
    case runAppeared(run: Int, name: String, path: String)
    /// The run's log records the run's name (a W&B run's display name, ``SampleReader/runName``): the name
    /// to show from now on in place of the one ``runAppeared(run:name:path:)`` gave, made unique among the
    /// runs the same way. Reported before the samples read after it. `path` is as in `runAppeared`.
    case runNamed(run: Int, name: String, path: String)
    /// New samples for a run, with the reader's key and statistics after them.
    case samples(run: Int, [MetricSample], metricKey: String?, statistics: ReadStatistics)
    /// Something the user should know about a run or a watched path: waiting for a file, permission
    /// denied, a rotation noticed. `run` is nil for a path that is not (yet) a run.
    case notice(run: Int?, Notice)
    /// Samples of one of a run's other sources (``sourcesListed(run:paths:primary:)`` numbers them): the same
    /// training run as read from another of its logs, for switching to. `samples` are the primary's.
    case sourceSamples(run: Int, source: Int, [MetricSample], metricKey: String?, statistics: ReadStatistics)
    /// The logs a run of several was found in (a trainer's `trainer_state.json`, its TensorBoard events,
    /// its console log), and which of them is the run's series.
    case sourcesListed(run: Int, paths: [String], primary: Int)
    /// One of a run's other sources does not hold what its series holds (other steps, other values beyond
    /// its precision), as far as both had been read when the run was first reported: noted, not merged.
    case sourceDisagrees(run: Int, path: String, note: String)
    /// A log found in a folder that holds no KL (so far): not a run, but worth listing with its keys.
    case logWithoutKL(path: String, statistics: ReadStatistics)
    /// A run's source can deliver nothing more (standard input or a FIFO closed).
    case runEnded(run: Int)
    /// Alerts rlwatch itself recorded for a run read from its store, to be shown beside kltop's own.
    case recordedAlerts(run: Int, [RlwatchStoredAlert])
}

/// Something that happened to a source, worded for the user.
public struct Notice: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file does not exist (yet); following waits for it.
        case waitingForFile
        /// A FIFO nobody has opened for writing yet; reading waits for its writer.
        case waitingForWriter
        /// A FIFO's or pipe's writer closed it: it has been read to its end.
        case streamEnded
        case permissionDenied
        /// A device or other special file: not something kltop reads.
        case notAFile
        case cannotOpen
        /// Reading failed (an I/O error): what was read so far is kept, and reading is tried again.
        case cannotRead
        /// A directory or glob with no run logs in it yet; following watches for new ones.
        case nothingToFollowYet
        /// The file is there again after a problem.
        case following
        case rotated
        case replacedByContinuation
        case truncated
        /// The connection to another machine (`host:path`) failed or dropped: what was read is kept, and it
        /// is opened again (when following).
        case disconnected
        /// Another machine has no kltop: one file is read there through `tail` instead (news, said even
        /// when reading to the end, as what it cannot read is then limited).
        case readThroughTail
    }

    public var kind: Kind
    public var path: String
    public var message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// Problems the user has to act on (as opposed to news about a file being followed).
    public var isProblem: Bool {
        switch kind {
        case .permissionDenied, .notAFile, .cannotOpen, .cannotRead, .disconnected: true
        case .waitingForFile, .waitingForWriter, .streamEnded, .nothingToFollowYet, .following, .rotated,
            .replacedByContinuation, .truncated, .readThroughTail:
            false
        }
    }

    /// Reading to the end rather than following, what this notice says went wrong with its path (a path
    /// that is not there is missing, not awaited); nil for news that is no problem.
    public var problemWhenReadingToTheEnd: String? {
        switch kind {
        case .waitingForFile: "no such file or directory"
        case .nothingToFollowYet: "nothing to read: no run logs found"
        case .permissionDenied, .notAFile, .cannotOpen, .cannotRead, .disconnected: message
        case .waitingForWriter, .streamEnded, .following, .rotated, .replacedByContinuation, .truncated,
            .readThroughTail:
            nil
        }
    }

    public var description: String { "\(path): \(message)" }
}
