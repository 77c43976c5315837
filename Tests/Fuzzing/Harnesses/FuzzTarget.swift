/// The fuzz targets: one per parser kltop has. Each is a harness that reads one input the way kltop would
/// and checks what must hold for every input, so that a fuzzer finds broken promises as well as crashes.
///
/// The same harnesses run in three places: under libFuzzer (`Scripts/fuzz.sh`, where a violation traps so
/// that libFuzzer keeps the input), in `kltop-fuzz TARGET FILE...` (replaying inputs), and in the test
/// suite (`FuzzingTests`: every checked-in regression input and every seed, on each `swift test`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case jsonl
    case csv
    case console
    /// TensorBoard event files: TFRecord framing, then the Event protobuf.
    case tensorboard
    case trainerState = "trainer-state"
    /// W&B transaction logs: block and chunk framing with CRC-32, then the Record protobuf.
    case wandb
    /// SwanLab run files: W&B's framing under another header, then the swanlab Record protobuf.
    case swanlab
    /// gzip and zstd logs: decompression, then JSON Lines.
    case decompression
    /// Recognising a log's format from its first bytes, and the reader that recognition picks.
    case formatDetection = "format-detection"
    case rlwatchConfig = "rlwatch-config"
    case theme
    /// Any bytes as YAML (vendored libyaml, then YAMLNodes' composer): what both config readers stand on.
    case yaml
    /// The lines of an MLflow file store's metric files.
    case mlflowMetricLines = "mlflow-metric-lines"
    /// The rows of the SQLite stores: a Trackio row's metrics JSON, an MLflow row's value.
    case storeRows = "store-rows"
    /// The stream `kltop HOST:PATH` reads from the other machine's `export --with-notes`.
    case remoteStream = "remote-stream"

    /// Runs the harness on one input: returns when every promise holds, throws the first broken one. A
    /// crash in the parser crashes here too, which is what a fuzzer is for.
    public func run(_ input: [UInt8]) throws(InvariantViolation) {
        switch self {
        case .jsonl: try ReaderHarnesses.jsonl(input)
        case .csv: try ReaderHarnesses.csv(input)
        case .console: try ReaderHarnesses.console(input)
        case .tensorboard: try ReaderHarnesses.tensorboard(input)
        case .trainerState: try ReaderHarnesses.trainerState(input)
        case .wandb: try ReaderHarnesses.wandb(input)
        case .swanlab: try ReaderHarnesses.swanlab(input)
        case .decompression: try DecompressionHarness.run(input)
        case .formatDetection: try FormatDetectionHarness.run(input)
        case .rlwatchConfig: try ConfigHarnesses.rlwatchConfig(input)
        case .theme: try ConfigHarnesses.theme(input)
        case .yaml: try ConfigHarnesses.yaml(input)
        case .mlflowMetricLines: try StoreHarnesses.mlflowMetricLines(input)
        case .storeRows: try StoreHarnesses.storeRows(input)
        case .remoteStream: try RemoteStreamHarness.run(input)
        }
    }
}

/// A promise a parser broke, worded for the person who will fix it.
public struct InvariantViolation: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Throws `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(InvariantViolation) {
    if !condition { throw InvariantViolation(message()) }
}
