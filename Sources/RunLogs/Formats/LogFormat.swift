/// The kinds of run log kltop reads.
public enum LogFormat: String, Sendable, CaseIterable {
    case jsonl
    case csv
    case tensorboard
    case console
    case trainerState
    case rlwatchStore
    case wandb
    /// SwanLab's run files (`swanlog/run-*/run-<id>.swanlab`).
    case swanlab
    /// MLflow's tracking store: the SQLite database (`mlflow.db`) or the file store (`mlruns/`).
    case mlflowStore
    /// A Trackio project database (`<project>.db` in `$TRACKIO_DIR`).
    case trackioStore

    /// The name `--input-format` takes.
    public var argumentName: String {
        switch self {
        case .jsonl: "jsonl"
        case .csv: "csv"
        case .tensorboard: "tensorboard"
        case .console: "console"
        case .trainerState: "trainer-state"
        case .rlwatchStore: "rlwatch"
        case .wandb: "wandb"
        case .swanlab: "swanlab"
        case .mlflowStore: "mlflow"
        case .trackioStore: "trackio"
        }
    }

    /// Parses an `--input-format` value: jsonl, csv, tensorboard, console, trainer-state, rlwatch, wandb,
    /// swanlab, mlflow, trackio.
    public init?(argument: String) {
        guard let format = Self.allCases.first(where: { $0.argumentName == argument.lowercased() }) else {
            return nil
        }
        self = format
    }

    public static var argumentNames: [String] { allCases.map(\.argumentName) }

    /// Whether this format is a store (a database or a folder of files) rather than a byte stream: read
    /// with a ``StoreReader`` (``StoreReaders/open(path:format:metric:)``).
    public var isStore: Bool {
        switch self {
        case .rlwatchStore, .mlflowStore, .trackioStore: true
        case .jsonl, .csv, .tensorboard, .console, .trainerState, .wandb, .swanlab: false
        }
    }

    /// A reader for this format. The stores are databases or folders, not byte streams: read them with a
    /// ``StoreReader``; the reader returned for one reads nothing and reports one bad record saying so.
    public func makeReader(metric: MetricSelection) -> any SampleReader {
        switch self {
        case .jsonl: JSONLReader(metric: metric)
        case .csv: CSVReader(metric: metric)
        case .tensorboard: TensorBoardEventReader(metric: metric)
        case .console: ConsoleReader(metric: metric)
        case .trainerState: TrainerStateReader(metric: metric)
        case .wandb: WandbTransactionLogReader(metric: metric)
        case .swanlab: SwanlabRunFileReader(metric: metric)
        case .rlwatchStore:
            NotAByteStreamReader(
                reason:
                    "an rlwatch store is an SQLite database, read from its file: name its path (metrics.db), not a pipe"
            )
        case .mlflowStore:
            NotAByteStreamReader(
                reason:
                    "an MLflow store is an SQLite database or a folder, read from its path: name mlflow.db or mlruns/, not a pipe"
            )
        case .trackioStore:
            NotAByteStreamReader(
                reason:
                    "a Trackio project is an SQLite database, read from its file: name its path (<project>.db), not a pipe"
            )
        }
    }
}
