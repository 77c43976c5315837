import CSQLite
import Foundation
import TestSupport
import Testing

/// MLflow's two stores and Trackio's project databases through the binary: `kltop export` gives exactly
/// what the writers logged, `kltop check` names runs as the writers name them, `kltop export --follow`
/// reports rows written while it runs once and in order, and a broken store is a message, not a crash.
@Suite(.serialized) struct StoresEndToEndTests {
    typealias Step = FollowFormatsLiveTests.Step
    typealias WakeUp = FollowFormatsLiveTests.WakeUp

    static let stores: [(fixture: String, runs: [StoreFixtures.Run])] = [
        (StoreFixtures.mlflowFolder + "/mlflow.db", StoreFixtures.mlflowRuns()),
        (StoreFixtures.mlflowFolder + "/mlruns", StoreFixtures.mlflowRuns()),
        (StoreFixtures.trackioDatabase, StoreFixtures.trackioRuns()),
        (StoreFixtures.legacyTrackioDatabase, StoreFixtures.trackioRuns(legacy: true)),
    ]

    /// (run, step, value) of each exported line; the value as kltop wrote it (`"nan"`, `"inf"` quoted).
    static func exported(_ output: String) -> [(run: String, sample: StoreFixtures.Sample)] {
        output.split(separator: "\n").compactMap { line in
            guard let data = line.data(using: .utf8),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let run = json["run"] as? String, let step = (json["step"] as? NSNumber)?.int64Value,
                let start = line.range(of: "\"value\": ")?.upperBound, line.hasSuffix("}")
            else { return nil }
            let text = line[start..<line.index(before: line.endIndex)].trimmingCharacters(
                in: CharacterSet(charactersIn: "\""))
            guard let value = Double(text) else { return nil }
            return (run, StoreFixtures.Sample(step: step, value: value))
        }
    }

    @Test(arguments: 0..<4)
    func exportGivesExactlyWhatTheWriterLogged(_ index: Int) throws {
        let (fixture, runs) = Self.stores[index]
        let path = try Fixtures.copy(fixture)
        let result = try Kltop.run(["export", path])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = Self.exported(result.standardOutput)
        #expect(lines.count == result.standardOutput.split(separator: "\n").count, "every line is a sample")
        #expect(lines.count == runs.map(\.samples.count).reduce(0, +))
        for run in runs {
            #expect(
                lines.filter { $0.run == run.name }.map(\.sample) == run.samples, "\(fixture): \(run.name)")
        }
        #expect(Set(lines.map(\.run)) == Set(runs.map(\.name)))
    }

    @Test(arguments: 0..<4)
    func checkNamesRunsAsTheWritersNameThem(_ index: Int) throws {
        let (fixture, runs) = Self.stores[index]
        let path = try Fixtures.copy(fixture)
        let result = try Kltop.run(["check", "--warmup", "5", "--window", "10", path])
        #expect(result.status == 0 || result.status == 2, "\(result.standardError)")
        for run in runs {
            let summary = "\(run.name): \(run.samples.count) KL samples (\"\(run.key)\")"
            #expect(
                result.standardOutput.contains(summary), "\(fixture): \(summary)\n\(result.standardOutput)")
            #expect(result.standardError.contains("\(run.name): reading KL from \"\(run.key)\""))
        }
    }

    @Test func aCorruptOrTruncatedStoreIsAClearMessage() throws {
        let directory = try TemporaryDirectory.make("kltop-stores-corrupt")
        let original = try Data(
            contentsOf: URL(fileURLWithPath: Fixtures.path(StoreFixtures.mlflowFolder + "/mlflow.db")))
        let cut = directory.appendingPathComponent("mlflow.db").path
        try original.prefix(20_000).write(to: URL(fileURLWithPath: cut))
        let trackio = directory.appendingPathComponent("project.db").path
        var garbage = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(StoreFixtures.trackioDatabase)))
            .prefix(100)
        garbage += Data((0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
        try garbage.write(to: URL(fileURLWithPath: trackio))
        for path in [cut, trackio] {
            let result = try Kltop.run(["check", path])
            #expect(result.status == 3, "a store that cannot be read is an error")
            #expect(
                result.standardError.contains(
                    "\(path): reading the database failed: database disk image is malformed"),
                "\(result.standardError)")
        }
        let folder = directory.appendingPathComponent("mlruns")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("0"), withIntermediateDirectories: true)
        try Data("name: Default\n".utf8).write(to: folder.appendingPathComponent("0/meta.yaml"))
        let empty = try Kltop.run(["check", folder.path])
        #expect(
            empty.status == 3 && empty.standardOutput.isEmpty, "a store without runs has nothing to check")
    }

    /// A database kltop may not read says so; as root, kltop runs as `nobody` (as in PermissionTests).
    @Test func anUnreadableDatabaseSaysPermissionDenied() throws {
        let root = try TemporaryDirectory.make("kltop-stores-permissions")
        let path = root.appendingPathComponent("mlflow.db").path
        try FileManager.default.copyItem(
            atPath: Fixtures.path(StoreFixtures.mlflowFolder + "/mlflow.db"), toPath: path)
        chmod(root.path, 0o755)
        guard let launcher = try Kltop.unprivilegedLauncher(in: root) else { return }
        chmod(path, 0o000)
        let result = try Kltop.run(["check", path], in: root, launcher: launcher)
        #expect(result.status == 3)
        #expect(
            result.standardError.contains("\(path): permission denied (kltop only needs to read it)"),
            "\(result.standardError)")
    }

    /// A WAL database whose writer is not running, in a folder kltop may not write to, is read (SQLite's
    /// `mode=ro` would need to create `-shm` there); as root, kltop runs as `nobody`.
    @Test func aWALDatabaseInAReadOnlyFolderIsRead() throws {
        let root = try TemporaryDirectory.make("kltop-stores-readonly-folder")
        let path = root.appendingPathComponent("kltop-fixture.db").path
        try FileManager.default.copyItem(atPath: Fixtures.path(StoreFixtures.trackioDatabase), toPath: path)
        guard let launcher = try Kltop.unprivilegedLauncher(in: root) else { return }
        chmod(path, 0o644)
        chmod(root.path, 0o555)
        defer { chmod(root.path, 0o755) }
        let result = try Kltop.run(["check", path], in: root, launcher: launcher)
        #expect(
            !result.standardOutput.isEmpty && !result.standardError.contains("cannot"),
            "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["kltop-fixture.db"])
    }

    // MARK: - Followed while the writers write

    /// MLflow's SQLite store written as `SqlAlchemyStore` writes it: a transaction per `create_run` and per
    /// `log_metrics` (the metrics rows, then `latest_metrics`). At step 30 a second `baseline` starts in the
    /// other experiment: kltop names it `grpo/baseline`.
    @Test(arguments: WakeUp.allCases)
    func anMLflowDatabaseWrittenLive(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-mlflow")
        let path = root.appendingPathComponent("mlflow.db").path
        let writer = try MLflowSQLWriter(emptyCopyAt: path)
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [path])
        defer { kltop.interrupt() }
        writer.startRun(id: "a", name: "baseline", experiment: 1)
        var expected: [String: [Step]] = [:]
        for step in 0..<60 {
            let kl = fixtureKL(step, spike: 45)
            writer.log(run: "a", ["train/loss": 0.3, "train/kl": kl], step: step)
            expected["baseline", default: []].append(Step(step: Int64(step), value: kl))
            if step == 30 { writer.startRun(id: "b", name: "baseline", experiment: 2) }
            if step >= 30 {
                let own = step - 30
                writer.log(run: "b", ["approx_kl": 0.01, "kl": fixtureKL(own)], step: own)
                expected["grpo/baseline", default: []].append(Step(step: Int64(own), value: fixtureKL(own)))
            }
            pause(milliseconds: 5)
        }
        FollowFormatsLiveTests.requireExactly(expected, from: kltop)
    }

    /// MLflow's file store as `FileStore` writes it: the run folder, its meta.yaml and run-name tag, then a
    /// line appended to `metrics/train/kl` per step (some of them in two writes, so that kltop finds half a
    /// line).
    @Test(arguments: WakeUp.allCases)
    func anMLflowFileStoreWrittenLive(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-mlruns")
        let mlruns = root.appendingPathComponent("mlruns").path
        try FileManager.default.createDirectory(atPath: mlruns + "/0", withIntermediateDirectories: true)
        try Data("experiment_id: '0'\nlifecycle_stage: active\nname: Default\n".utf8).write(
            to: URL(fileURLWithPath: mlruns + "/0/meta.yaml"))
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [root.path])
        defer { kltop.interrupt() }
        pause(milliseconds: 300)
        let experiment = mlruns + "/123456789"
        try FileManager.default.createDirectory(atPath: experiment, withIntermediateDirectories: true)
        try Data("experiment_id: '123456789'\nlifecycle_stage: active\nname: ppo\n".utf8).write(
            to: URL(fileURLWithPath: experiment + "/meta.yaml"))
        var random = SeededGenerator(seed: 5)
        var files: [String: RawFile] = [:]
        var expected: [String: [Step]] = [:]
        func startRun(_ name: String, id: String, start: Int) throws {
            let folder = experiment + "/" + id
            try FileManager.default.createDirectory(
                atPath: folder + "/metrics/train", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(
                atPath: folder + "/tags", withIntermediateDirectories: true)
            let meta = RawFile(folder + "/meta.yaml", flags: O_WRONLY | O_CREAT | O_TRUNC)
            meta.write(Array("artifact_uri: ./mlartifacts\nexperiment_id: '123456789'\n".utf8))
            pause(milliseconds: 20)
            meta.write(
                Array(
                    "lifecycle_stage: active\nrun_id: \(id)\nrun_name: \(name)\nstart_time: \(start)\n".utf8))
            meta.close()
            try Data(name.utf8).write(to: URL(fileURLWithPath: folder + "/tags/mlflow.runName"))
            files[name] = RawFile(folder + "/metrics/train/kl", flags: O_WRONLY | O_CREAT | O_APPEND)
        }
        try startRun("ppo-live", id: String(repeating: "1", count: 32), start: 1000)
        for step in 0..<60 {
            if step == 20 { try startRun("late", id: String(repeating: "2", count: 32), start: 2000) }
            for (name, file) in files.sorted(by: { $0.key < $1.key }) {
                let own = name == "late" ? step - 20 : step
                let kl = fixtureKL(own, spike: 40)
                file.write(
                    Array("\(1_800_000_000_000 + own) \(kl) \(own)\n".utf8), inPieces: &random,
                    maximumPieces: 3)
                expected[name, default: []].append(Step(step: Int64(own), value: kl))
            }
            pause(milliseconds: 5)
        }
        FollowFormatsLiveTests.requireExactly(expected, from: kltop)
    }

    /// A Trackio project written as Trackio's `bulk_log` writes it (WAL mode, a transaction per batch of
    /// rows, the metrics JSON as bytes), two runs in turn, one logging without steps.
    @Test(arguments: WakeUp.allCases)
    func aTrackioProjectWrittenLive(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-trackio")
        let path = root.appendingPathComponent("project.db").path
        try FileManager.default.copyItem(atPath: Fixtures.path(StoreFixtures.trackioDatabase), toPath: path)
        var db: OpaquePointer?
        precondition(sqlite3_open(path, &db) == SQLITE_OK)
        defer { sqlite3_close(db) }
        sqlite3_busy_timeout(db, 5000)
        precondition(sqlite3_exec(db, "DELETE FROM metrics", nil, nil, nil) == SQLITE_OK)
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [path])
        defer { kltop.interrupt() }
        var expected: [String: [Step]] = [:]
        var batch: [String] = []
        for step in 0..<60 {
            for (id, name) in [("r1", "grpo-live"), ("r2", "ppo-live")] {
                let kl = fixtureKL(step, spike: id == "r1" ? 50 : nil)
                let json = id == "r1" ? "{\"loss\":0.3,\"kl\":\(kl)}" : "{\"train/kl\":\(kl)}"
                let hex = json.utf8.map { String(format: "%02X", $0) }.joined()
                batch.append(
                    "INSERT INTO metrics (run_id, timestamp, run_name, step, metrics) VALUES ('\(id)', '2026-01-01T00:00:00+00:00', '\(name)', \(step), X'\(hex)')"
                )
                expected[name, default: []].append(Step(step: Int64(step), value: kl))
            }
            if batch.count >= 6 || step == 59 {
                let sql = "BEGIN; " + batch.joined(separator: "; ") + "; COMMIT"
                precondition(sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK)
                batch = []
                pause(milliseconds: 20)
            }
        }
        FollowFormatsLiveTests.requireExactly(expected, from: kltop)
    }
}

/// MLflow's SQLite store, written through libsqlite3 as SQLAlchemy drives it for MLflow: the fixture's
/// schema (alembic's, MLflow 3.18), emptied of runs, then a transaction per run made and per step logged.
final class MLflowSQLWriter {
    private var db: OpaquePointer?

    init(emptyCopyAt path: String) throws {
        try FileManager.default.copyItem(
            atPath: Fixtures.path(StoreFixtures.mlflowFolder + "/mlflow.db"), toPath: path)
        precondition(sqlite3_open(path, &db) == SQLITE_OK)
        sqlite3_busy_timeout(db, 5000)  // Python's sqlite3 waits 5 s for a lock by default
        run(
            "DELETE FROM latest_metrics; DELETE FROM metrics; DELETE FROM params; DELETE FROM tags; DELETE FROM runs"
        )
    }

    deinit { sqlite3_close(db) }

    func startRun(id: String, name: String, experiment: Int) {
        let uuid = String(repeating: id, count: 32)
        run(
            """
            BEGIN; INSERT INTO runs (run_uuid, name, source_type, user_id, status, start_time, lifecycle_stage, artifact_uri, experiment_id) \
            VALUES ('\(uuid)', '\(name)', 'LOCAL', 'fixture', 'RUNNING', 1, 'active', 'mlartifacts', \(experiment)); \
            INSERT INTO tags (key, value, run_uuid) VALUES ('mlflow.runName', '\(name)', '\(uuid)'); COMMIT
            """)
    }

    func log(run id: String, _ metrics: [String: Double], step: Int) {
        let uuid = String(repeating: id, count: 32)
        var sql = "BEGIN; "
        for (key, value) in metrics.sorted(by: { $0.key < $1.key }) {
            sql +=
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES ('\(key)', \(value), \(step), '\(uuid)', \(step), 0); "
        }
        for (key, value) in metrics {
            sql +=
                "INSERT OR REPLACE INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('\(key)', \(value), \(step), \(step), 0, '\(uuid)'); "
        }
        run(sql + "COMMIT")
    }

    private func run(_ sql: String) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(db, sql, nil, nil, &error)
        precondition(status == SQLITE_OK, "\(sql): \(error.map { String(cString: $0) } ?? "\(status)")")
    }
}
