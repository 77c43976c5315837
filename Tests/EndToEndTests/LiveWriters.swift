import CSQLite
import Foundation
import TestSupport

// Writers that write each log format the way its real writer does, byte for byte and call for call, for
// the live-following tests (FollowFormatsLiveTests). Deterministic: every random choice comes from a seed.

/// The KL series of the format fixtures (Tests/Fixtures/formats/README.md): 0.020 ... 0.030, 5.0 at a spike.
func fixtureKL(_ step: Int, spike: Int? = nil) -> Double {
    step == spike ? 5.0 : Double(20 + (step * 37) % 11) / 1000
}

func pause(milliseconds: Int) { usleep(UInt32(milliseconds * 1000)) }

/// A file descriptor the test writes through, with the syscalls the writers make.
final class RawFile {
    let path: String
    private(set) var descriptor: Int32

    /// `flags` as for open(2): O_WRONLY | O_CREAT | O_TRUNC is Python's "w", O_APPEND its "a".
    init(_ path: String, flags: Int32) {
        self.path = path
        descriptor = open(path, flags | O_CLOEXEC, 0o644)
        precondition(descriptor >= 0, "cannot open \(path): \(String(cString: strerror(errno)))")
    }

    deinit { close() }

    func write(_ bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        var done = 0
        while done < array.count {
            let count = array[done...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            precondition(count > 0, "write to \(path) failed")
            done += count
        }
    }

    func write(_ bytes: some Collection<UInt8>, at offset: Int) {
        let array = Array(bytes)
        let count = array.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        precondition(count == array.count, "pwrite to \(path) failed")
    }

    /// Writes `bytes` in the pieces `cuts` makes of them, pausing between some pieces so that the reader
    /// may look in between.
    func write(_ bytes: [UInt8], inPieces random: inout SeededGenerator, maximumPieces: Int) {
        var cuts = [0, bytes.count]
        for _ in 0..<Int(random.next() % UInt64(maximumPieces)) {
            cuts.append(Int(random.next() % UInt64(max(1, bytes.count))))
        }
        cuts.sort()
        for (start, end) in zip(cuts, cuts.dropFirst()) where start < end {
            write(bytes[start..<end])
            if random.next() % 3 == 0 { pause(milliseconds: Int(random.next() % 3)) }
        }
    }

    func contents() -> [UInt8] {
        Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data())
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}

// MARK: - TensorBoard

/// Writes a TensorBoard event file as tensorboard's `EventFileWriter` does: the file is created with its
/// `file_version` record; each flush writes the records queued since, which a buffered writer can cut
/// anywhere (so records arrive split across writes).
final class EventFileWriter {
    let file: RawFile
    private var queued: [UInt8] = []

    /// `events.out.tfevents.<%010d seconds>.<host>.<pid>.<uid>`, the name torch/tensorboard give it.
    init(folder: URL, seconds: Int, uid: Int) {
        let name = String(format: "events.out.tfevents.%010d.fixturehost.4242.%d", seconds, uid)
        file = RawFile(folder.appendingPathComponent(name).path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        file.write(TFRecordEncoding.record(TFRecordEncoding.fileVersionEvent(wallTime: Double(seconds))))
    }

    /// `add_scalar(tag, value, step)`: one Event with one `simple_value`, queued.
    func addScalar(_ tag: String, _ value: Float, step: Int) {
        queued += TFRecordEncoding.record(
            TFRecordEncoding.event(
                step: Int64(step), wallTime: 1_700_000_000 + Double(step), tag: tag,
                value: TFRecordEncoding.simpleValue(value)))
    }

    /// `flush()`: what is queued reaches the file, in up to `maximumPieces` writes cut at random bytes.
    func flush(_ random: inout SeededGenerator, maximumPieces: Int = 4) {
        file.write(queued, inPieces: &random, maximumPieces: maximumPieces)
        queued.removeAll()
    }

    func close() { file.close() }
}

// MARK: - Python's buffered text files

/// A file opened by Python's `open()` in text mode: writes collect in a buffer that reaches the file in
/// 8 KiB pieces when it fills, the rest at `flush()`, `seek()` and `close()`. `afterEachWrite` runs after
/// every write(2), so that a test can let the reader look at the file half written.
final class PythonTextFile {
    static let bufferSize = 8192
    let file: RawFile
    private let appending: Bool
    private var buffer: [UInt8] = []
    /// Where the buffer's first byte goes.
    private var position = 0
    var afterEachWrite: () -> Void = {}

    /// `mode`: "w" / "w+" (create or truncate), "a" (append).
    init(_ path: String, mode: String) {
        appending = mode.hasPrefix("a")
        let access = mode.contains("+") ? O_RDWR : O_WRONLY
        file = RawFile(path, flags: access | O_CREAT | (appending ? O_APPEND : O_TRUNC))
    }

    func write(_ text: String) {
        buffer += Array(text.utf8)
        while buffer.count >= Self.bufferSize {
            writeOut(Array(buffer.prefix(Self.bufferSize)))
            buffer.removeFirst(Self.bufferSize)
        }
    }

    func flush() {
        if !buffer.isEmpty { writeOut(buffer) }
        buffer.removeAll()
    }

    /// `seek(0)`.
    func seekToStart() {
        flush()
        position = 0
    }

    /// `readlines()` from the current position (always 0 here), leaving the position at the end.
    func readLines() -> [String] {
        flush()
        let bytes = file.contents()
        position = bytes.count
        var lines: [String] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            lines.append(String(decoding: bytes[start...index], as: UTF8.self))
            start = index + 1
        }
        if start < bytes.count { lines.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return lines
    }

    func close() {
        flush()
        file.close()
    }

    private func writeOut(_ bytes: [UInt8]) {
        if appending {
            file.write(bytes)
        } else {
            file.write(bytes, at: position)
        }
        position += bytes.count
        afterEachWrite()
    }
}

// MARK: - stable-baselines3

/// stable-baselines3's `CSVOutputFormat` (common/logger.py): the file is opened "w+t" once; when a dump
/// brings keys not seen before, the whole file is rewritten in place — `seek(0)`, `readlines()`, `seek(0)`,
/// the wider header, every old row with one `,` per new key — without truncating (the new content is
/// longer), then the row is written and the file flushed.
final class SB3ProgressWriter {
    let file: PythonTextFile
    private(set) var keys: [String] = []

    init(path: String) {
        file = PythonTextFile(path, mode: "w+")
    }

    /// `write(key_values)`: `values` in the order they were recorded; new keys join in that order (SB3
    /// takes them from a set difference, in an order the hash seed decides).
    func write(_ values: [(key: String, value: String)]) {
        let extraKeys = values.map(\.key).filter { !keys.contains($0) }
        if !extraKeys.isEmpty {
            keys += extraKeys
            file.seekToStart()
            let lines = file.readLines()
            file.seekToStart()
            file.write(keys.joined(separator: ","))
            file.write("\n")
            for line in lines.dropFirst() {
                file.write(String(line.dropLast()))
                file.write(String(repeating: ",", count: extraKeys.count))
                file.write("\n")
            }
        }
        let byKey = Dictionary(values.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        file.write(keys.map { byKey[$0] ?? "" }.joined(separator: ","))
        file.write("\n")
        file.flush()
    }

    func close() { file.close() }
}

// MARK: - Lightning

/// Lightning's `_ExperimentWriter` (lightning_fabric/loggers/csv_logs.py, 2.6): `log_metrics` queues a
/// row; `save()` adds the new keys to the sorted header, and when there are new ones rewrites the file —
/// read it back with `csv.DictReader`, open it "w" (truncated to 0) and write header and rows — then opens
/// it "a" and appends the queued rows. `csv.DictWriter` ends lines with `\r\n`.
final class LightningMetricsWriter {
    let path: String
    private(set) var metricsKeys: [String] = []
    private var metrics: [[String: String]] = []
    var afterEachWrite: () -> Void = {}

    init(path: String) { self.path = path }

    func logMetrics(_ values: [String: String], step: Int) {
        var row = values
        row["step"] = String(step)
        metrics.append(row)
    }

    func save() {
        guard !metrics.isEmpty else { return }
        let newKeys = Set(metrics.flatMap(\.keys)).subtracting(metricsKeys)
        metricsKeys += newKeys
        metricsKeys.sort()
        let exists = FileManager.default.fileExists(atPath: path)
        if !newKeys.isEmpty && exists {
            let old = readRows()
            let file = PythonTextFile(path, mode: "w")
            file.afterEachWrite = afterEachWrite
            file.write(line(metricsKeys))
            for row in old { file.write(line(metricsKeys.map { row[$0] ?? "" })) }
            file.close()
        }
        let file = PythonTextFile(path, mode: exists ? "a" : "w")
        file.afterEachWrite = afterEachWrite
        if !exists { file.write(line(metricsKeys)) }
        for row in metrics { file.write(line(metricsKeys.map { row[$0] ?? "" })) }
        file.close()
        metrics.removeAll()
    }

    private func line(_ cells: [String]) -> String { cells.joined(separator: ",") + "\r\n" }

    /// `list(csv.DictReader(file))`: rows as dictionaries keyed by the header.
    private func readRows() -> [[String: String]] {
        let text = String(decoding: RawFile(path, flags: O_RDONLY).contents(), as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }
        guard let header = lines.first?.components(separatedBy: ",") else { return [] }
        return lines.dropFirst().map { line in
            Dictionary(uniqueKeysWithValues: zip(header, line.components(separatedBy: ",")))
        }
    }
}

// MARK: - transformers' trainer_state.json

/// A transformers `TrainerState` as `save_to_json` writes it: `json.dumps(asdict(state), indent=2,
/// sort_keys=True) + "\n"`.
struct TrainerStateDocument {
    /// A JSON value as Python's json module prints it.
    enum Value {
        case int(Int)
        case float(Double)
        case string(String)
        case bool(Bool)
        case null
        case object([String: Value])
        case list([Value])
    }

    var globalStep = 0
    var epoch = 0.0
    var maxSteps: Int
    var saveSteps: Int
    var logHistory: [[String: Value]] = []

    func json() -> String {
        let state: [String: Value] = [
            "best_global_step": .null, "best_metric": .null, "best_model_checkpoint": .null,
            "epoch": .float(epoch), "eval_steps": .int(20), "global_step": .int(globalStep),
            "is_hyper_param_search": .bool(false), "is_local_process_zero": .bool(true),
            "is_world_process_zero": .bool(true), "log_history": .list(logHistory.map { .object($0) }),
            "logging_steps": .int(1), "max_steps": .int(maxSteps),
            "num_input_tokens_seen": .int(4096 * globalStep), "num_train_epochs": .int(1),
            "save_steps": .int(saveSteps),
            "stateful_callbacks": .object([
                "TrainerControl": .object([
                    "args": .object([
                        "should_epoch_stop": .bool(false), "should_evaluate": .bool(false),
                        "should_log": .bool(false), "should_save": .bool(true),
                        "should_training_stop": .bool(false),
                    ]),
                    "attributes": .object([:]),
                ])
            ]),
            "total_flos": .float(0), "train_batch_size": .int(8), "trial_name": .null, "trial_params": .null,
        ]
        var out = ""
        Self.dump(.object(state), indent: 0, into: &out)
        return out + "\n"
    }

    private static func dump(_ value: Value, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent + 2)
        switch value {
        case .int(let number): out += String(number)
        case .float(let number): out += pythonRepr(number)
        case .string(let text): out += "\"\(text)\""
        case .bool(let flag): out += flag ? "true" : "false"
        case .null: out += "null"
        case .object(let members):
            if members.isEmpty {
                out += "{}"
                return
            }
            out += "{\n"
            for (index, key) in members.keys.sorted().enumerated() {
                out += pad + "\"\(key)\": "
                dump(members[key]!, indent: indent + 2, into: &out)
                out += index == members.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        case .list(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += pad
                dump(item, indent: indent + 2, into: &out)
                out += index == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        }
    }

    /// Python's `repr(float)` (json writes floats so), including its bare `NaN` and `Infinity`.
    static func pythonRepr(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number > 0 ? "Infinity" : "-Infinity" }
        return "\(number)"
    }
}

/// transformers' `Trainer` saving checkpoints: at every `save_steps`, `output_dir/checkpoint-<step>/` gets
/// the model files, then `trainer_state.json` (the whole log history so far); then `_rotate_checkpoints`
/// deletes the oldest checkpoint folders (in numeric order) beyond `save_total_limit`.
struct CheckpointingTrainer {
    let outputDirectory: URL
    let saveTotalLimit: Int
    var state: TrainerStateDocument
    /// Pieces each trainer_state.json reaches the disk in, with a pause between (a slow or network
    /// filesystem shows the file half written).
    var pieces = 3

    static func checkpoints(in directory: URL) -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else {
                return nil
            }
            return (step, directory.appendingPathComponent(name))
        }.sorted { $0.step < $1.step }
    }

    /// One optimizer step logged as `Trainer.log()` logs it (`{**logs, "epoch": ..., "step": ...}`).
    mutating func log(step: Int, kl: Double, gradNorm: Double) {
        state.globalStep = step
        state.epoch = Double(step) / Double(state.maxSteps)
        state.logHistory.append([
            "loss": .float(0.3 + 0.01 * Double((step * 7) % 5)), "grad_norm": .float(gradNorm),
            "learning_rate": .float(1e-06), "kl": .float(kl), "entropy": .float(1.2 - 0.002 * Double(step)),
            "reward": .float(0.1 + 0.005 * Double(step % 40)), "epoch": .float(state.epoch),
            "step": .int(step),
        ])
    }

    /// `Trainer.evaluate()`: an entry with `eval_` keys and no `kl`.
    mutating func logEvaluation(step: Int) {
        state.logHistory.append([
            "eval_kl": .float(0.029), "eval_loss": .float(0.03), "eval_runtime": .float(12.5),
            "epoch": .float(state.epoch), "step": .int(step),
        ])
    }

    /// `_save_checkpoint`: the folder, the model files, trainer_state.json; then the rotation.
    func saveCheckpoint() {
        let folder = outputDirectory.appendingPathComponent("checkpoint-\(state.globalStep)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in [
            "model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin",
        ] {
            _ = FileManager.default.createFile(
                atPath: folder.appendingPathComponent(name).path, contents: Data(repeating: 7, count: 512))
        }
        writeState(to: folder.appendingPathComponent("trainer_state.json").path)
        let existing = Self.checkpoints(in: outputDirectory)
        for old in existing.dropLast(saveTotalLimit) { try! FileManager.default.removeItem(at: old.url) }
    }

    /// `trainer.save_state()`, as example scripts call it when training ends: output_dir/trainer_state.json.
    func saveState() {
        writeState(to: outputDirectory.appendingPathComponent("trainer_state.json").path)
    }

    private func writeState(to path: String) {
        let bytes = Array(state.json().utf8)
        let file = RawFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        let size = (bytes.count + pieces - 1) / pieces
        for start in stride(from: 0, to: bytes.count, by: size) {
            file.write(bytes[start..<min(bytes.count, start + size)])
            pause(milliseconds: 5)
        }
        file.close()
    }
}

// MARK: - rlwatch

/// rlwatch's `MetricStore` (storage.py) through libsqlite3, as Python's sqlite3 module drives it:
/// `connect()` (which leaves an empty file), `PRAGMA journal_mode=WAL`, `synchronous=NORMAL`, the schema
/// as a script (each statement its own transaction), the schema version, the run registered; then every
/// `log_metrics` is its own transaction (BEGIN, INSERT, COMMIT).
final class RlwatchStoreWriter {
    private var db: OpaquePointer?
    let runID: String

    /// `afterConnect` runs between `connect()` and the first statement: the moment the file is empty.
    init(path: String, runID: String, afterConnect: () -> Void = {}) {
        self.runID = runID
        precondition(sqlite3_open(path, &db) == SQLITE_OK)
        sqlite3_busy_timeout(db, 5000)  // Python's sqlite3 waits 5 s for a lock by default
        afterConnect()
        run("PRAGMA journal_mode=WAL")
        run("PRAGMA synchronous=NORMAL")
        for statement in Self.schema { run(statement) }
        var version: Int64 = 0
        query("SELECT version FROM schema_version ORDER BY version DESC LIMIT 1") { version = $0 }
        if version == 0 {
            run("BEGIN")
            run("INSERT INTO schema_version (version) VALUES (2)")
            run("COMMIT")
        }
        run("BEGIN")
        run(
            "INSERT OR REPLACE INTO runs (run_id, framework, started_at, config_json) VALUES ('\(runID)', 'manual', 1700000000.5, '{}')"
        )
        run("COMMIT")
    }

    deinit { sqlite3_close(db) }

    func logMetrics(step: Int, kl: Double?, entropy: Double) {
        let value = kl.map { "\($0)" } ?? "NULL"
        run("BEGIN")
        run(
            "INSERT INTO metrics (run_id, step, timestamp, entropy, kl_divergence, grad_norm, extra_json) VALUES ('\(runID)', \(step), \(1_700_000_000.0 + Double(step)), \(entropy), \(value), 1.0, NULL)"
        )
        run("COMMIT")
    }

    func logAlert(step: Int, message: String) {
        run("BEGIN")
        run(
            "INSERT INTO alerts (run_id, step, timestamp, detector, severity, message, metric_values_json, recommendation) VALUES ('\(runID)', \(step), 1700000100.0, 'kl_explosion', 'critical', '\(message)', '{}', 'lower the learning rate')"
        )
        run("COMMIT")
    }

    private func run(_ sql: String) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(db, sql, nil, nil, &error)
        precondition(status == SQLITE_OK, "\(sql): \(error.map { String(cString: $0) } ?? "\(status)")")
    }

    private func query(_ sql: String, _ row: (Int64) -> Void) {
        var statement: OpaquePointer?
        precondition(sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK)
        defer { sqlite3_finalize(statement) }
        while sqlite3_step(statement) == SQLITE_ROW { row(sqlite3_column_int64(statement, 0)) }
    }

    /// rlwatch 0.5.1's DDL (Tests/Fixtures/formats/expected.json → schema).
    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS runs (
                        run_id TEXT PRIMARY KEY,
                        framework TEXT,
                        started_at REAL,
                        config_json TEXT
                    )
        """,
        """
        CREATE TABLE IF NOT EXISTS metrics (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        run_id TEXT NOT NULL,
                        step INTEGER NOT NULL,
                        timestamp REAL NOT NULL,
                        entropy REAL,
                        kl_divergence REAL,
                        reward_mean REAL,
                        reward_std REAL,
                        reward_min REAL,
                        reward_max REAL,
                        advantage_std REAL,
                        loss REAL,
                        learning_rate REAL,
                        clip_fraction REAL,
                        grad_norm REAL,
                        extra_json TEXT,
                        FOREIGN KEY (run_id) REFERENCES runs(run_id)
                    )
        """,
        "CREATE INDEX IF NOT EXISTS idx_metrics_run_step ON metrics(run_id, step)",
        """
        CREATE TABLE IF NOT EXISTS alerts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        run_id TEXT NOT NULL,
                        step INTEGER NOT NULL,
                        timestamp REAL NOT NULL,
                        detector TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        message TEXT NOT NULL,
                        metric_values_json TEXT,
                        recommendation TEXT,
                        FOREIGN KEY (run_id) REFERENCES runs(run_id)
                    )
        """,
        "CREATE INDEX IF NOT EXISTS idx_alerts_run ON alerts(run_id)",
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)",
    ]
}
