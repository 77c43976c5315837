/// The kinds of run log kltop reads.
public enum LogFormat: String, Sendable, CaseIterable {
    case jsonl
    case csv
    case tensorboard
    case console
    case trainerState
    case rlwatchStore
    case wandb

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
        }
    }

    /// Parses an `--input-format` value: jsonl, csv, tensorboard, console, trainer-state, rlwatch, wandb.
    public init?(argument: String) {
        guard let format = Self.allCases.first(where: { $0.argumentName == argument.lowercased() }) else {
            return nil
        }
        self = format
    }

    public static var argumentNames: [String] { allCases.map(\.argumentName) }

    /// A reader for this format. rlwatch's store is a database, not a byte stream: read it with
    /// ``RlwatchStoreReader``; the reader returned for it reads nothing and reports one bad record saying so.
    public func makeReader(metric: MetricSelection) -> any SampleReader {
        switch self {
        case .jsonl: JSONLReader(metric: metric)
        case .csv: CSVReader(metric: metric)
        case .tensorboard: TensorBoardEventReader(metric: metric)
        case .console: ConsoleReader(metric: metric)
        case .trainerState: TrainerStateReader(metric: metric)
        case .wandb: WandbTransactionLogReader(metric: metric)
        case .rlwatchStore:
            NotAByteStreamReader(
                reason:
                    "an rlwatch store is an SQLite database, read from its file: name its path (metrics.db), not a pipe"
            )
        }
    }
}
