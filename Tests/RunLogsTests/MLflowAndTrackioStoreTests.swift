import CSQLite
import Foundation
import RunLogs
import TestSupport
import Testing

typealias StoreSample = StoreFixtures.Sample

/// The samples of each run of one poll, by run name, as the fixtures' expectations spell them.
func samplesByRun(_ updates: [RunUpdate]) -> [String: [StoreSample]] {
    var runs: [String: [StoreSample]] = [:]
    for update in updates {
        runs[update.run, default: []] += update.samples.map { StoreSample(step: $0.step, value: $0.value) }
    }
    return runs
}

/// A writing connection, as MLflow's or Trackio's own.
final class SQLiteWriter {
    var db: OpaquePointer?
    init(_ path: String) {
        sqlite3_open(path, &db)
        sqlite3_busy_timeout(db, 0)  // any lock held by the reader would fail the writer at once
    }
    deinit { sqlite3_close(db) }
    @discardableResult func run(_ sql: String) -> Int32 { sqlite3_exec(db, sql, nil, nil, nil) }
}

/// A copy of a store for a test to read (and write): opening a WAL database creates -wal/-shm beside it.
func copyOfStore(_ relative: String) throws -> String { try Fixtures.copy(relative) }

@Suite struct MLflowStoreReaderTests {
    static let database = StoreFixtures.mlflowFolder + "/mlflow.db"

    @Test func theSQLiteStoreReadsValueForValueAsMLflowLoggedIt() throws {
        let path = try copyOfStore(Self.database)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try StoreReaders.open(path: path)
        #expect(reader is MLflowStoreReader)
        let updates = try reader.poll()
        let expected = StoreFixtures.mlflowRuns()
        #expect(expected.count == 4)
        #expect(updates.map(\.run) == expected.map(\.name), "runs in the order MLflow made them")
        let read = samplesByRun(updates)
        for run in expected {
            #expect(read[run.name] == run.samples, "\(run.name)")
            let update = try #require(updates.first { $0.run == run.name })
            #expect(update.metricKey == run.key, "\(run.name)")
            #expect(update.rows == run.samples.count && update.missingValues == 0 && update.badLines == 0)
        }
        #expect(expected.map(\.name) == ["ppo-lr3e-6", "ppo-lr1e-5", "baseline", "grpo/baseline"])
        #expect(read["ppo-lr3e-6"]?.first { $0.step == 17 }?.value.isNaN == true, "is_nan = 1")
        #expect(read["ppo-lr3e-6"]?.first { $0.step == 35 }?.value == .infinity, "MLflow's stand-in for +inf")
        #expect(read["ppo-lr1e-5"]?.first { $0.step == 8 }?.value == -.infinity)
        #expect(try reader.poll().isEmpty, "nothing new")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original, "the database is never written")
    }

    @Test func aChosenMetricIsReadForEveryRunThatHasIt() throws {
        let path = try copyOfStore(Self.database)
        let updates = try MLflowStoreReader(path: path, metric: .key("train/loss")).poll()
        #expect(updates.first { $0.run == "ppo-lr3e-6" }?.samples.count == 40)
        let grpo = try #require(updates.first { $0.run == "grpo/baseline" })
        #expect(grpo.samples.isEmpty && grpo.rows == 0, "the GRPO run logs loss, not train/loss")
    }

    /// MLflow's writes as `SqlAlchemyStore` makes them: the run row, then each step's metrics rows with their
    /// `latest_metrics` row in one transaction.
    @Test func rowsAddedWhileMLflowWritesArriveOnceInOrder() throws {
        let path = try copyOfStore(Self.database)
        let reader = try MLflowStoreReader(path: path)
        reader.batchSize = 3  // several batches per poll
        _ = try reader.poll()
        let writer = SQLiteWriter(path)
        let fresh = String(repeating: "f", count: 32)
        let gone = String(repeating: "d", count: 32)
        #expect(writer.run("BEGIN IMMEDIATE") == SQLITE_OK)
        writer.run(
            "INSERT INTO runs (run_uuid, name, experiment_id, lifecycle_stage, status) VALUES ('\(fresh)', 'fresh', 2, 'active', 'RUNNING')"
        )
        writer.run(
            "INSERT INTO runs (run_uuid, name, experiment_id, lifecycle_stage) VALUES ('\(gone)', 'gone', 2, 'deleted')"
        )
        func log(_ run: String, _ key: String, step: Int, _ value: String, isNaN: Int = 0) {
            writer.run(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES ('\(key)', \(value), \(1000 + step), '\(run)', \(step), \(isNaN))"
            )
            writer.run(
                "INSERT OR REPLACE INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('\(key)', \(value), \(1000 + step), \(step), \(isNaN), '\(run)')"
            )
        }
        log(fresh, "loss", step: 0, "0.3")
        log(fresh, "kl", step: 0, "0.5")
        log(fresh, "kl", step: 1, "0", isNaN: 1)
        log(fresh, "kl", step: 2, "1.7976931348623157e308")
        log(gone, "kl", step: 0, "0.1")
        #expect(
            try reader.poll().isEmpty, "an uncommitted transaction is not seen, and does not block the reader"
        )
        #expect(writer.run("COMMIT") == SQLITE_OK, "the reader never blocks the writer")
        let ppo = try #require(
            {
                var id = ""
                let lookup = SQLiteWriter(path)
                var statement: OpaquePointer?
                sqlite3_prepare_v2(
                    lookup.db, "SELECT run_uuid FROM runs WHERE name = 'ppo-lr3e-6'", -1, &statement, nil)
                if sqlite3_step(statement) == SQLITE_ROW {
                    id = String(cString: sqlite3_column_text(statement, 0))
                }
                sqlite3_finalize(statement)
                return id.isEmpty ? nil : id
            }())
        log(ppo, "train/kl", step: 40, "0.021")
        let updates = try reader.poll()
        #expect(updates.map(\.run) == ["fresh", "ppo-lr3e-6"], "the deleted run is left out")
        let read = samplesByRun(updates)
        #expect(
            read["fresh"] == [
                StoreSample(step: 0, value: 0.5), StoreSample(step: 1, value: .nan),
                StoreSample(step: 2, value: .infinity),
            ])
        #expect(updates.first?.metricKey == "kl")
        #expect(read["ppo-lr3e-6"] == [StoreSample(step: 40, value: 0.021)])
        #expect(try reader.poll().isEmpty)
    }

    @Test func aRunWithoutAKLKeySaysWhichKeysItHasUntilItLogsOne() throws {
        let path = try copyOfStore(Self.database)
        let reader = try MLflowStoreReader(path: path)
        _ = try reader.poll()
        let writer = SQLiteWriter(path)
        let id = String(repeating: "a", count: 32)
        writer.run(
            "INSERT INTO runs (run_uuid, name, experiment_id, lifecycle_stage) VALUES ('\(id)', 'sft', 1, 'active')"
        )
        writer.run("INSERT INTO metrics VALUES ('loss', 0.5, 1, '\(id)', 0, 0)")
        writer.run("INSERT INTO latest_metrics VALUES ('loss', 0.5, 1, 0, 0, '\(id)')")
        let first = try #require(try reader.poll().first)
        #expect(
            first.run == "sft" && first.samples.isEmpty && first.metricKey == nil
                && first.keysSeen == ["loss"])
        writer.run("INSERT INTO metrics VALUES ('train/kl', 0.25, 2, '\(id)', 1, 0)")
        writer.run("INSERT INTO latest_metrics VALUES ('train/kl', 0.25, 2, 1, 0, '\(id)')")
        let second = try #require(try reader.poll().first)
        #expect(second.metricKey == "train/kl" && second.samples == [MetricSample(step: 1, value: 0.25)])
    }

    @Test func aDatabaseWithoutMLflowsColumnsGetsAClearError() throws {
        let directory = try TemporaryDirectory.make("kltop-mlflow")
        let path = directory.appendingPathComponent("mlflow.db").path
        SQLiteWriter(path).run(
            "CREATE TABLE experiments (x); CREATE TABLE runs (run_uuid); CREATE TABLE metrics (key, run_uuid)"
        )
        #expect(
            LogFormat.storeFormat(
                tables: ["experiments", "runs", "metrics"], metricsColumns: ["key", "run_uuid"])
                == .mlflowStore)
        do {
            _ = try StoreReaders.open(path: path)
            Issue.record("a store without MLflow's value and step columns was accepted")
        } catch {
            #expect(
                error.description
                    == "\(path): not an MLflow tracking store: the metrics table has no value column")
        }
    }
}

@Suite struct MLflowFileStoreReaderTests {
    static let store = StoreFixtures.mlflowFolder + "/mlruns"

    @Test func theFileStoreReadsValueForValueAsMLflowLoggedIt() throws {
        let path = try copyOfStore(Self.store)
        #expect(MLflowFileStoreReader.isStore(path))
        let reader = try StoreReaders.open(path: path)
        #expect(reader is MLflowFileStoreReader)
        let updates = try reader.poll()
        let expected = StoreFixtures.mlflowRuns()
        #expect(updates.map(\.run) == expected.map(\.name), "named as the SQLite store's runs are")
        let read = samplesByRun(updates)
        for run in expected {
            #expect(read[run.name] == run.samples, "\(run.name)")
            #expect(updates.first { $0.run == run.name }?.metricKey == run.key)
        }
        #expect(try reader.poll().isEmpty)
    }

    /// MLflow appends one line per `log_metric`; a follower can find half a line, a new run folder before
    /// its meta.yaml, a key (`train/kl`) that is a folder.
    @Test func linesAndRunsAddedWhileMLflowWritesArriveOnceInOrder() throws {
        let path = try copyOfStore(Self.store)
        let reader = try MLflowFileStoreReader(path: path)
        let first = try reader.poll()
        #expect(first.count == 4)
        let experiment = try #require(
            StorePaths.children(path).first {
                (try? String(contentsOfFile: path + "/" + $0 + "/meta.yaml", encoding: .utf8))?.contains(
                    "name: ppo-sweep") == true
            })
        let runFolder = path + "/" + experiment + "/" + String(repeating: "e", count: 32)
        try FileManager.default.createDirectory(
            atPath: runFolder + "/metrics/train", withIntermediateDirectories: true)
        #expect(try reader.poll().isEmpty, "a run folder without its meta.yaml yet is not a run yet")
        try FileManager.default.createDirectory(
            atPath: runFolder + "/tags", withIntermediateDirectories: true)
        try
            "run_id: \(String(repeating: "e", count: 32))\nrun_name: late\nexperiment_id: '\(experiment)'\nlifecycle_stage: active\nstart_time: 9999999999999\n"
            .write(toFile: runFolder + "/meta.yaml", atomically: false, encoding: .utf8)
        try "late-run".write(toFile: runFolder + "/tags/mlflow.runName", atomically: false, encoding: .utf8)
        let kl = runFolder + "/metrics/train/kl"
        let handle = try #require(
            FileHandle(
                forWritingAtPath: {
                    FileManager.default.createFile(atPath: kl, contents: nil)
                    return kl
                }()))
        handle.write(Data("1000 0.5 0\n1001 nan 1\n1002 0.2".utf8))
        let second = try reader.poll()
        #expect(second.map(\.run) == ["late-run"])
        #expect(
            samplesByRun(second)["late-run"] == [
                StoreSample(step: 0, value: 0.5), StoreSample(step: 1, value: .nan),
            ])
        handle.write(Data("5 2\n1003 inf 3\nnot a metric line\n1004 0.75\n".utf8))
        let third = try #require(try reader.poll().first)
        #expect(
            third.samples.map { StoreSample(step: $0.step, value: $0.value) } == [
                StoreSample(step: 2, value: 0.25), StoreSample(step: 3, value: .infinity),
                StoreSample(step: 0, value: 0.75),
            ])
        #expect(third.badLines == 1 && third.firstBadLines.first?.lineNumber == 5)
        try handle.close()
        #expect(try reader.poll().isEmpty)
    }

    @Test func metricLinesAreReadAsMLflowReadsThem() {
        func parse(_ line: String) -> MLflowMetricLines.Outcome? {
            Array(line.utf8).withUnsafeBufferPointer { MLflowMetricLines.parse($0) }
        }
        #expect(parse("1700000000000 0.023 7") == .sample(MetricSample(step: 7, value: 0.023)))
        #expect(parse("1700000000000 1e-05 7 ds abc123") == .sample(MetricSample(step: 7, value: 1e-05)))
        #expect(
            parse("1700000000000 0.5") == .sample(MetricSample(step: 0, value: 0.5)), "MLflow before steps")
        #expect(parse("1 -inf -3\r") == .sample(MetricSample(step: -3, value: -.infinity)))
        if case .sample(let sample) = parse("1 nan 2") {
            #expect(sample.value.isNaN)
        } else {
            Issue.record("nan")
        }
        #expect(parse("   ") == nil)
        for bad in [
            "1 0.5 2 extra", "1  0.5 2", "x 0.5 1", "1 abc 1", "1 0.5 2.5", "1 0.5 99999999999999999999", "7",
        ] {
            guard case .bad = parse(bad) else {
                Issue.record("\(bad) was read")
                continue
            }
        }
    }

    @Test func aFileReadInPiecesReadsAsAtOnce() {
        let text = Array("1 0.5 0\n2 0.25 1\nbad\n3 inf 2\n\n4 0.125 3\n5 0.0625".utf8)
        func outcomes(_ cuts: [Int]) -> [MLflowMetricLines.Outcome] {
            var lines = MLflowMetricLines()
            var result: [MLflowMetricLines.Outcome] = []
            var start = 0
            for cut in cuts + [text.count] {
                text[start..<cut].withUnsafeBufferPointer { lines.feed($0) { result.append($0) } }
                start = cut
            }
            return result
        }
        let whole = outcomes([])
        #expect(whole.count == 5, "the unterminated last line waits")
        for cut in 0...text.count { #expect(outcomes([cut]) == whole, "cut at \(cut)") }
    }

    @Test func aFileStoreIsRecognisedByItsLayout() throws {
        let path = try copyOfStore(Self.store)
        let experiment = try #require(StorePaths.children(path).first { $0 != "0" })
        let run = try #require(StorePaths.children(path + "/" + experiment).first { $0.count == 32 })
        #expect(!MLflowFileStoreReader.isStore(path + "/" + experiment))
        #expect(
            MLflowFileStoreReader.root(ofMetaFile: path + "/" + experiment + "/" + run + "/meta.yaml") == path
        )
        #expect(MLflowFileStoreReader.root(ofMetaFile: path + "/" + experiment + "/meta.yaml") == nil)
        try FileManager.default.removeItem(atPath: path + "/0")
        let renamed = StorePaths.parent(path) + "/tracking"
        try FileManager.default.moveItem(atPath: path, toPath: renamed)
        #expect(!MLflowFileStoreReader.isStore(renamed), "no Default experiment, not named mlruns")
        #expect(
            MLflowFileStoreReader.root(ofMetaFile: renamed + "/" + experiment + "/" + run + "/meta.yaml")
                == renamed)
    }
}

enum StorePaths {
    static func parent(_ path: String) -> String { (path as NSString).deletingLastPathComponent }
    static func children(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }
            .sorted()
    }
}

@Suite struct TrackioStoreReaderTests {
    @Test(arguments: [false, true])
    func theProjectDatabaseReadsValueForValueAsTrackioLoggedIt(legacy: Bool) throws {
        let path = try copyOfStore(
            legacy ? StoreFixtures.legacyTrackioDatabase : StoreFixtures.trackioDatabase)
        let reader = try StoreReaders.open(path: path)
        #expect(reader is TrackioStoreReader)
        let updates = try reader.poll()
        let expected = StoreFixtures.trackioRuns(legacy: legacy)
        #expect(updates.map(\.run) == expected.map(\.name))
        let read = samplesByRun(updates)
        for run in expected {
            #expect(read[run.name] == run.samples, "\(run.name)")
            #expect(updates.first { $0.run == run.name }?.metricKey == run.key)
        }
        if !legacy {
            #expect(expected.map(\.name) == ["grpo-7b", "ppo-1b", "baseline", "baseline~2"])
            #expect(read["grpo-7b"]?.first { $0.step == 9 }?.value.isNaN == true, "\"NaN\"")
            #expect(read["ppo-1b"]?.first { $0.step == 15 }?.value == -.infinity, "\"-Infinity\"")
        }
        #expect(try reader.poll().isEmpty)
    }

    @Test func rowsAddedWhileTrackioWritesArriveOnceInOrder() throws {
        let path = try copyOfStore(StoreFixtures.trackioDatabase)
        let reader = try TrackioStoreReader(path: path)
        reader.batchSize = 4
        _ = try reader.poll()
        let writer = SQLiteWriter(path)
        func log(_ id: String, _ name: String, _ step: Int, _ json: String, blob: Bool = true) {
            let hex = json.utf8.map { String(format: "%02X", $0) }.joined()
            let value = blob ? "X'\(hex)'" : "'\(json)'"
            #expect(
                writer.run(
                    "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES ('\(id)', '2026-01-01T00:00:00', '\(name)', \(step), \(value))"
                ) == SQLITE_OK)
        }
        #expect(writer.run("BEGIN IMMEDIATE") == SQLITE_OK)
        log("new1", "fresh", 0, #"{"loss": 0.3, "kl": 0.5}"#)
        log("new1", "fresh", 1, #"{"kl": "NaN", "step": 99}"#, blob: false)
        log("new1", "fresh", 2, #"{"kl": "Infinity"}"#)
        log("new1", "fresh", 3, #"{"kl": 0.2"#)
        log("new1", "fresh", 4, #"{"kl": null}"#)
        log("new2", "grpo-7b", 0, #"{"reward": 1}"#)
        #expect(
            try reader.poll().isEmpty, "an uncommitted transaction is not seen, and does not block the reader"
        )
        #expect(writer.run("COMMIT") == SQLITE_OK, "the reader never blocks the writer")
        let updates = try reader.poll()
        #expect(updates.map(\.run) == ["fresh", "grpo-7b~2"])
        let fresh = try #require(updates.first)
        #expect(
            fresh.samples.map { StoreSample(step: $0.step, value: $0.value) } == [
                StoreSample(step: 0, value: 0.5), StoreSample(step: 1, value: .nan),
                StoreSample(step: 2, value: .infinity),
            ], "the row's step, not the JSON's")
        #expect(fresh.badLines == 1 && fresh.missingValues == 1 && fresh.rows == 4)
        #expect(updates.last?.keysSeen == ["reward"] && updates.last?.metricKey == nil)
        #expect(try reader.poll().isEmpty)
    }
}

@Suite struct StoreRecognitionTests {
    @Test func sqliteStoresAreToldApartByTheirTables() throws {
        #expect(
            LogFormat.storeFormat(
                tables: ["runs", "metrics", "alerts"], metricsColumns: ["id", "run_id", "step"])
                == .rlwatchStore)
        #expect(
            LogFormat.storeFormat(
                tables: ["metrics", "configs"], metricsColumns: ["id", "run_name", "step", "metrics"])
                == .trackioStore)
        #expect(LogFormat.storeFormat(tables: ["t"], metricsColumns: []) == nil)
        #expect(
            LogFormat(argument: "mlflow") == .mlflowStore && LogFormat(argument: "trackio") == .trackioStore)
        let rlwatch = try Fixtures.copy("formats/rlwatch/rlwatch_logs/metrics.db")
        #expect(try StoreReaders.open(path: rlwatch) is RlwatchStoreReader)
        let trackio = try copyOfStore(StoreFixtures.trackioDatabase)
        #expect(throws: StoreError.self) { try StoreReaders.open(path: trackio, format: .mlflowStore) }
        let other = try TemporaryDirectory.make("kltop-stores").appendingPathComponent("optuna.db").path
        SQLiteWriter(other).run("CREATE TABLE studies (id INTEGER PRIMARY KEY); CREATE TABLE metrics (x)")
        do {
            _ = try StoreReaders.open(path: other)
            Issue.record("a database that is no store was opened as one")
        } catch {
            #expect(
                error.description
                    == "\(other): not a store kltop reads (rlwatch's, MLflow's or Trackio's): none of their tables"
            )
        }
    }

    /// Each store cut short and with bytes flipped: reading it gives samples or a clear error, never a crash.
    @Test(arguments: [MLflowStoreReaderTests.database, StoreFixtures.trackioDatabase])
    func aCorruptOrTruncatedStoreIsAnErrorNotACrash(_ fixture: String) throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(fixture)))
        let directory = try TemporaryDirectory.make("kltop-store-corrupt")
        var random = SeededGenerator(seed: 17)
        var copies: [Data] = stride(from: 0, to: original.count, by: 4096).map { original.prefix($0) }
        for _ in 0..<40 {
            var copy = original
            for _ in 0..<(1 + Int(random.next() % 6)) {
                let index = Int(random.next() % UInt64(copy.count))
                copy[index] ^= UInt8(truncatingIfNeeded: 1 + random.next() % 255)
            }
            copies.append(copy)
        }
        var failures = 0
        for (number, bytes) in copies.enumerated() {
            let path = directory.appendingPathComponent("store-\(number).db").path
            try bytes.write(to: URL(fileURLWithPath: path))
            do {
                let reader = try StoreReaders.open(path: path)
                for update in try reader.poll() { #expect(update.samples.count <= 40) }
            } catch {
                failures += 1
                #expect(!error.description.isEmpty)
            }
        }
        #expect(failures > 0, "a store cut to a few bytes cannot be read")
    }
}
