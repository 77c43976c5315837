import CSQLite
import Foundation
import RunLogs
import TestSupport

/// Feeds `bytes` to `reader` in LogFile-sized chunks and finishes it; returns the samples.
func ingest<Reader: SampleReader>(_ reader: inout Reader, _ bytes: [UInt8]) -> Int {
    var samples = 0
    bytes.withUnsafeBytes { all in
        var offset = 0
        while offset < all.count {
            let end = min(offset + LogFile.chunkSize, all.count)
            reader.consume(UnsafeRawBufferPointer(rebasing: all[offset..<end])) { _ in samples += 1 }
            offset = end
        }
    }
    reader.finish { _ in samples += 1 }
    return samples
}

/// A block repeated until `targetBytes`: building every record anew would measure the generator.
func repeated(_ block: [UInt8], targetBytes: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(targetBytes + block.count)
    while bytes.count < targetBytes { bytes += block }
    return bytes
}

func report(_ label: String, bytes: Int, seconds: Double, samples: Int, records: Int) {
    print(
        "  \(label): \(String(format: "%7.0f", Double(bytes) / seconds / 1e6)) MB/s"
            + "   (\(samples) samples, \(String(format: "%.0f", Double(records) / seconds / 1e3))k records/s)"
    )
}

/// Writes `bytes` to a temporary file and reports ingest through LogFile (page cache).
func reportFromFile<Reader: SampleReader>(_ bytes: [UInt8], suffix: String, _ make: () -> Reader) {
    let path = NSTemporaryDirectory() + "kltop-bench-\(getpid())" + suffix
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
    defer { unlink(path) }
    let seconds = best(of: 3) {
        var reader = make()
        try? LogFile.read(path: path, into: &reader) { _ in }
    }
    print("  from a file (page cache): \(String(format: "%7.0f", Double(bytes.count) / seconds / 1e6)) MB/s")
}

/// tensorboardX-style event files: one scalar per event, four tags per step.
func benchTensorBoard() {
    let series = klSeries(count: 10_000)
    var block: [UInt8] = []
    var records = 0
    for step in 0..<10_000 {
        for (tag, value) in [
            ("train/kl", series[step]), ("train/loss", 0.3 + Double(step % 5) * 0.01),
            ("train/entropy", 1.2 - Double(step % 50) * 0.002), ("train/reward", Double(step % 40) * 0.005),
        ] {
            block += TFRecordEncoding.record(
                TFRecordEncoding.event(
                    step: Int64(step), wallTime: 1_700_000_000 + Double(step), tag: tag,
                    value: TFRecordEncoding.simpleValue(Float(value))))
            records += 1
        }
    }
    let bytes = repeated(
        TFRecordEncoding.record(TFRecordEncoding.fileVersionEvent()) + block, targetBytes: 200 << 20)
    let totalRecords = records * (bytes.count / block.count)
    print(
        "TensorBoard event ingest (tensorboardX scalars, \(block.count / records) bytes per record, both CRCs "
            + "checked; target ≥ 200 MB/s)")
    var samples = 0
    let seconds = best(of: 3) {
        var reader = TensorBoardEventReader()
        samples = ingest(&reader, bytes)
    }
    report("from memory", bytes: bytes.count, seconds: seconds, samples: samples, records: totalRecords)
    reportFromFile(bytes, suffix: ".tfevents") { TensorBoardEventReader() }
}

/// A W&B transaction log: the records wandb-core wrote for the fixture run `grpo01` (a history record and
/// two summary records per step, the run, telemetry and exit records), framed again one after another as
/// wandb-core frames them, until the file is 200 MB: every block boundary cuts a record, as in a real file.
func benchWandb() {
    let records = WandbLogEncoding.records(of: WandbFixtures.bytes(id: "grpo01"))
    guard !records.isEmpty else {
        print("W&B ingest: the fixture Tests/Fixtures/formats/wandb is missing")
        return
    }
    let unitBytes = records.reduce(0) { $0 + $1.count + 7 }
    var writer = WandbLogEncoding.Writer()
    var repetitions = 0
    while writer.bytes.count < 200 << 20 {
        for record in records { writer.append(record) }
        repetitions += 1
    }
    let bytes = writer.bytes
    let totalRecords = records.count * repetitions
    print(
        "W&B transaction log ingest (wandb-core's records for a small run, \(unitBytes / records.count) bytes "
            + "per record, CRC-32 checked)")
    var samples = 0
    let seconds = best(of: 3) {
        var reader = WandbTransactionLogReader()
        samples = ingest(&reader, bytes)
    }
    report("from memory", bytes: bytes.count, seconds: seconds, samples: samples, records: totalRecords)
    reportFromFile(bytes, suffix: ".wandb") { WandbTransactionLogReader() }
}

/// A SwanLab run file: the records swanlab 0.10.3 wrote for the fixture run `long-run` (a column record
/// per key, then one scalar record per key and step, three keys a step; the start, save and finish
/// records), framed again one after another as swanlab frames them, until the file is 200 MB.
func benchSwanlab() {
    let records = WandbLogEncoding.records(of: SwanlabFixtures.bytes(name: "long-run"))
    guard !records.isEmpty else {
        print("SwanLab ingest: the fixture Tests/Fixtures/formats/swanlab is missing")
        return
    }
    let unitBytes = records.reduce(0) { $0 + $1.count + 7 }
    var writer = WandbLogEncoding.Writer(header: SwanlabLogEncoding.header)
    var repetitions = 0
    while writer.bytes.count < 200 << 20 {
        for record in records { writer.append(record) }
        repetitions += 1
    }
    let bytes = writer.bytes
    let totalRecords = records.count * repetitions
    print(
        "SwanLab run file ingest (swanlab's records for a small run, \(unitBytes / records.count) bytes per "
            + "record, CRC-32 checked)")
    var samples = 0
    let seconds = best(of: 3) {
        var reader = SwanlabRunFileReader()
        samples = ingest(&reader, bytes)
    }
    report("from memory", bytes: bytes.count, seconds: seconds, samples: samples, records: totalRecords)
    reportFromFile(bytes, suffix: ".swanlab") { SwanlabRunFileReader() }
}

/// stable-baselines3-style progress.csv rows: 15 columns, KL present in every row.
func benchCSV() {
    let series = klSeries(count: 10_000)
    let header =
        "time/iterations,time/total_timesteps,time/fps,time/time_elapsed,train/n_updates,train/approx_kl,"
        + "train/entropy_loss,train/value_loss,train/policy_gradient_loss,train/loss,train/clip_range,"
        + "train/explained_variance,train/clip_fraction,rollout/ep_rew_mean,rollout/ep_len_mean\n"
    var block = ""
    for row in 0..<10_000 {
        let cells: [String] = [
            "\(row + 1)", "\(2048 * (row + 1))", "\(1000 + row % 97)", "\(2 * row)", "\(10 * row)",
            "\(series[row])",
            "\(-1.2 + Double(row % 50) * 0.002)", "\(0.3 + Double(row % 5) * 0.01)",
            "\(-0.001 * Double(row % 7))",
            "\(0.15 + Double(row % 5) * 0.005)", "0.2", "0.5", "\(0.01 * Double(row % 4))",
            "\(0.1 + Double(row % 40) * 0.005)", "\(200.0 + Double(row % 100))",
        ]
        block += cells.joined(separator: ",") + "\n"
    }
    let blockBytes = Array(block.utf8)
    let bytes = Array(header.utf8) + repeated(blockBytes, targetBytes: 200 << 20)
    let rows = 10_000 * ((bytes.count - header.utf8.count) / blockBytes.count)
    print(
        "CSV ingest (stable-baselines3 progress.csv rows, 15 columns, \(blockBytes.count / 10_000) bytes per row; target ≥ 200 MB/s)"
    )
    var samples = 0
    let seconds = best(of: 3) {
        var reader = CSVReader()
        samples = ingest(&reader, bytes)
    }
    report("from memory", bytes: bytes.count, seconds: seconds, samples: samples, records: rows)
    reportFromFile(bytes, suffix: ".csv") { CSVReader() }
}

/// rlwatch's metrics.db with its own schema, several runs interleaved as rlwatch writes them.
func benchSQLite() {
    let directory = NSTemporaryDirectory() + "kltop-bench-sqlite-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/metrics.db"
    let rowCount = 2_000_000
    var db: OpaquePointer?
    guard sqlite3_open(path, &db) == SQLITE_OK else { return print("  (could not create \(path))") }
    let schema = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE runs (run_id TEXT PRIMARY KEY, framework TEXT, started_at REAL, config_json TEXT);
        CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, step INTEGER NOT NULL,
            timestamp REAL NOT NULL, entropy REAL, kl_divergence REAL, reward_mean REAL, reward_std REAL,
            reward_min REAL, reward_max REAL, advantage_std REAL, loss REAL, learning_rate REAL,
            clip_fraction REAL, grad_norm REAL, extra_json TEXT, FOREIGN KEY (run_id) REFERENCES runs(run_id));
        CREATE INDEX idx_metrics_run_step ON metrics(run_id, step);
        CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, step INTEGER NOT NULL,
            timestamp REAL NOT NULL, detector TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,
            metric_values_json TEXT, recommendation TEXT, FOREIGN KEY (run_id) REFERENCES runs(run_id));
        CREATE INDEX idx_alerts_run ON alerts(run_id);
        CREATE TABLE schema_version (version INTEGER PRIMARY KEY);
        INSERT INTO schema_version VALUES (2);
        INSERT INTO runs VALUES ('ppo_a', 'trl', 1700000000, '{}'), ('ppo_b', 'trl', 1700000000, '{}');
        BEGIN;
        """
    sqlite3_exec(db, schema, nil, nil, nil)
    var insert: OpaquePointer?
    sqlite3_prepare_v2(
        db,
        "INSERT INTO metrics (run_id, step, timestamp, entropy, kl_divergence, reward_mean, loss, grad_norm, "
            + "extra_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{\"kl_coef\": 0.001}')", -1, &insert, nil)
    let series = klSeries(count: 10_000)
    for row in 0..<rowCount {
        sqlite3_bind_text(insert, 1, row % 2 == 0 ? "ppo_a" : "ppo_b", -1, nil)
        sqlite3_bind_int64(insert, 2, Int64(row / 2))
        sqlite3_bind_double(insert, 3, 1_700_000_000 + Double(row) * 0.5)
        sqlite3_bind_double(insert, 4, 1.2)
        sqlite3_bind_double(insert, 5, series[row % series.count])
        sqlite3_bind_double(insert, 6, 0.1)
        sqlite3_bind_double(insert, 7, 0.3)
        sqlite3_bind_double(insert, 8, 1.0)
        sqlite3_step(insert)
        sqlite3_reset(insert)
    }
    sqlite3_finalize(insert)
    sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", nil, nil, nil)
    sqlite3_close(db)
    print(
        "rlwatch SQLite store (\(rowCount / 1_000_000)M metrics rows, 2 runs interleaved, read from the page cache; target ≥ 1M rows/s)"
    )
    var samples = 0
    let seconds = best(of: 3) {
        guard let reader = try? RlwatchStoreReader(path: path), let updates = try? reader.poll() else {
            return
        }
        samples = updates.reduce(0) { $0 + $1.samples.count }
    }
    print(
        "  first poll: \(String(format: "%6.2f", Double(rowCount) / seconds / 1e6))M rows/s   (\(samples) samples in "
            + "\(String(format: "%.0f", seconds * 1000)) ms)")
}

/// MLflow's SQLite store (the fixture's schema, MLflow 3.18's, emptied) with 2 runs logging two keys per
/// step as `log_metrics` does, and a Trackio project (the fixture's schema) with one JSON row per step: the
/// first poll of each, which reads every row.
func benchStores() {
    let directory = NSTemporaryDirectory() + "kltop-bench-stores-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let steps = 500_000
    let series = klSeries(count: 10_000)
    func fill(
        _ fixture: String, _ name: String, clear: String, insert: String, bind: (OpaquePointer?, Int) -> Void
    )
        -> String?
    {
        let path = directory + "/" + name
        guard (try? FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: path)) != nil else {
            return nil
        }
        var db: OpaquePointer?
        guard sqlite3_open(path, &db) == SQLITE_OK else { return nil }
        defer { sqlite3_close(db) }
        sqlite3_exec(db, clear + "; BEGIN", nil, nil, nil)
        var statement: OpaquePointer?
        sqlite3_prepare_v2(db, insert, -1, &statement, nil)
        for step in 0..<steps {
            for run in 0..<2 {
                bind(statement, step * 2 + run)
                sqlite3_step(statement)
                sqlite3_reset(statement)
            }
        }
        sqlite3_finalize(statement)
        sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", nil, nil, nil)
        return path
    }
    let ids = ["a", "b"].map { String(repeating: $0, count: 32) }
    let mlflow = fill(
        "formats/mlflow/mlflow.db", "mlflow.db",
        clear:
            "DELETE FROM latest_metrics; DELETE FROM metrics; DELETE FROM params; DELETE FROM tags; DELETE FROM runs; "
            + "INSERT INTO runs (run_uuid, name, experiment_id, lifecycle_stage) VALUES ('\(ids[0])', 'ppo_a', 1, 'active'), "
            + "('\(ids[1])', 'ppo_b', 1, 'active'); INSERT INTO latest_metrics VALUES ('train/kl', 0, 0, 0, 0, '\(ids[0])'), "
            + "('train/kl', 0, 0, 0, 0, '\(ids[1])')",
        insert:
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)"
    ) { statement, row in
        // Two rows per step and run: train/loss, then train/kl.
        sqlite3_reset(statement)
        for key in ["train/loss", "train/kl"] {
            sqlite3_bind_text(statement, 1, key, -1, csqlite_transient())
            sqlite3_bind_double(statement, 2, key == "train/kl" ? series[row % series.count] : 0.3)
            sqlite3_bind_int64(statement, 3, Int64(1_700_000_000_000 + row))
            sqlite3_bind_text(statement, 4, ids[row % 2], -1, csqlite_transient())
            sqlite3_bind_int64(statement, 5, Int64(row / 2))
            if key == "train/loss" {
                sqlite3_step(statement)
                sqlite3_reset(statement)
            }
        }
    }
    let trackio = fill(
        "formats/trackio/kltop-fixture.db", "project.db", clear: "DELETE FROM metrics",
        insert:
            "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES (?, '2026-01-01T00:00:00+00:00', ?, ?, ?)"
    ) { statement, row in
        let json = "{\"loss\":0.3,\"reward\":0.1,\"kl\":\(series[row % series.count])}"
        sqlite3_bind_text(statement, 1, ids[row % 2], -1, csqlite_transient())
        sqlite3_bind_text(statement, 2, row % 2 == 0 ? "grpo_a" : "grpo_b", -1, csqlite_transient())
        sqlite3_bind_int64(statement, 3, Int64(row / 2))
        sqlite3_bind_blob(statement, 4, json, Int32(json.utf8.count), csqlite_transient())
    }
    for (label, path, rows) in [
        ("MLflow SQLite store (\(steps * 4 / 1000)k metrics rows: 2 runs, 2 keys)", mlflow, steps * 4),
        ("Trackio project (\(steps * 2 / 1000)k JSON rows: 2 runs)", trackio, steps * 2),
    ] {
        guard let path else {
            print("  (could not make the \(label))")
            continue
        }
        print("\(label), read from the page cache; target ≥ 1M rows/s")
        var samples = 0
        let seconds = best(of: 3) {
            guard let reader = try? StoreReaders.open(path: path), let updates = try? reader.poll() else {
                return
            }
            samples = updates.reduce(0) { $0 + $1.samples.count }
        }
        print(
            "  first poll: \(String(format: "%6.2f", Double(rows) / seconds / 1e6))M rows/s   (\(samples) samples in "
                + "\(String(format: "%.0f", seconds * 1000)) ms)")
    }
}

/// Console output as the trainers print it: veRL's `step:N - key:value` lines behind Ray's coloured prefix,
/// transformers' dict lines between tqdm redraws, and warnings (no record), in equal parts by line.
func benchConsole() {
    var block: [UInt8] = []
    for step in 1...64 {
        let kl = String(0.02 + 0.001 * Double((step * 37) % 11))
        block += Array(
            ("\u{1B}[36m(TaskRunner pid=4242)\u{1B}[0m step:\(step) - actor/kl_loss:np.float64(\(kl))"
                + " - actor/pg_loss:np.float64(-0.0123) - actor/entropy:np.float64(1.234)"
                + " - critic/score/mean:np.float64(0.5) - response_length/mean:np.float64(312.5)"
                + " - timing_s/step:np.float64(12.25) - perf/throughput:np.float64(1534.2)\n").utf8)
        block += Array(
            (" 10%|█         | \(step)/640 [00:\(10 + step % 40)<09:00,  1.10it/s]\r"
                + "{'loss': '0.3012', 'grad_norm': '1.234', 'learning_rate': '1e-06', 'kl': '\(kl)',"
                + " 'reward': '0.125', 'epoch': '0.01'}\n").utf8)
        block += Array(
            ("/venv/lib/python3.11/site-packages/torch/utils/checkpoint.py:91: UserWarning: None of the"
                + " inputs have requires_grad=True. Gradients will be None\n").utf8)
    }
    let bytes = repeated(block, targetBytes: 100 << 20)
    let lineCount = bytes.reduce(0) { $0 + ($1 == 10 || $1 == 13 ? 1 : 0) }
    print(
        "Console ingest (veRL lines with Ray prefix, transformers dicts after tqdm, warnings; \(bytes.count / lineCount) bytes per line)"
    )
    var samples = 0
    let seconds = best(of: 3) {
        var reader = ConsoleReader()
        samples = ingest(&reader, bytes)
    }
    report("from memory", bytes: bytes.count, seconds: seconds, samples: samples, records: lineCount)
    reportFromFile(bytes, suffix: ".log") { ConsoleReader() }
    // One file per writer's shape, each read on its own (their keys differ): torchtune's pairs, ROLL's
    // JSON, slime's dicts behind a logging header, SkyRL's dicts over several lines.
    for name in ["torchtune/logs/log_1700000000.txt", "roll_stdout.log", "slime_ray.log", "skyrl_ray.log"] {
        guard let file = FileManager.default.contents(atPath: Fixtures.path("formats/textlogs/" + name))
        else {
            continue
        }
        let text = repeated(Array(file), targetBytes: 50 << 20)
        let lines = text.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        var read = 0
        let time = best(of: 3) {
            var reader = ConsoleReader()
            read = ingest(&reader, text)
        }
        report(
            String(name.split(separator: "/").last!).padding(toLength: 22, withPad: " ", startingAt: 0),
            bytes: text.count, seconds: time, samples: read, records: lines)
    }
}
