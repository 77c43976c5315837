import CSQLite
import Foundation
import LogFollowing
import RunLogs
import TestSupport
import Testing

/// MLflow's and Trackio's stores found in a folder and followed: each is one source of several runs, read
/// again when inotify says it changed (the poll interval here is 1000 s, so only inotify wakes the follower
/// after the first round).
@Suite(.serialized) struct FollowedStoresTests {
    static let never = 1000.0

    /// A folder as a training machine has it: MLflow's two stores and a Trackio project beside a log that is
    /// no store, another program's SQLite database and a `.db` that is no database.
    static func trainingFolder() throws -> URL {
        let root = try TemporaryDirectory.make("kltop-stores")
        for (fixture, name) in [
            (StoreFixtures.mlflowFolder + "/mlflow.db", "mlflow.db"),
            (StoreFixtures.mlflowFolder + "/mlruns", "mlruns"),
            (StoreFixtures.trackioDatabase, "trackio/kltop-fixture.db"),
        ] {
            let target = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.path(fixture), toPath: target.path)
        }
        var db: OpaquePointer?
        sqlite3_open(root.appendingPathComponent("optuna.db").path, &db)
        sqlite3_exec(db, "CREATE TABLE studies (id INTEGER PRIMARY KEY, name TEXT)", nil, nil, nil)
        sqlite3_close(db)
        try write("not a database at all, but named like one\n", to: root.appendingPathComponent("notes.db"))
        try write("{\"step\": 1, \"kl\": 0.1}\n", to: root.appendingPathComponent("sft/metrics.jsonl"))
        return root
    }

    static func artifactFolder(in mlruns: String) throws -> String {
        for experiment in try FileManager.default.contentsOfDirectory(atPath: mlruns) where experiment != "0"
        {
            let folder = mlruns + "/" + experiment
            for run in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where run.count == 32 {
                return folder + "/" + run + "/artifacts"
            }
        }
        throw CocoaError(.fileNoSuchFile)
    }

    @Test func storesInAFolderAreReadAsTheirRunsAndNothingElseIsTakenForOne() throws {
        let root = try Self.trainingFolder()
        // A log uploaded as an artifact is the store's business, not a run of its own.
        let artifacts = try Self.artifactFolder(in: root.appendingPathComponent("mlruns").path)
        try write("{\"step\": 1, \"kl\": 9.9}\n", to: URL(fileURLWithPath: artifacts + "/train.jsonl"))
        let following = Following([root.path], pollInterval: Self.never)
        following.poll()
        following.finish()
        let mlflow = StoreFixtures.mlflowRuns()
        let trackio = StoreFixtures.trackioRuns()
        #expect(following.runs.count == mlflow.count * 2 + trackio.count + 1)
        #expect(following.runs.contains("sft"))
        #expect(!following.samples.contains { $0.sample.value == 9.9 })
        #expect(following.notices.filter(\.isProblem).isEmpty, "\(following.notices)")
        // Names are unique across sources: a later store's `baseline` is named after its folder.
        #expect(Set(following.runs).count == following.runs.count)
        #expect(following.runs.contains("trackio/baseline"))
        let mlflowSamples = mlflow.map(\.samples.count).reduce(0, +)
        let trackioSamples = trackio.map(\.samples.count).reduce(0, +)
        #expect(following.samples.count == 1 + 2 * mlflowSamples + trackioSamples)
    }

    @Test func aFileStoreWakesTheFollowerWhenMLflowAppendsALine() throws {
        let root = try TemporaryDirectory.make("kltop-stores")
        let mlruns = root.appendingPathComponent("mlruns").path
        try FileManager.default.copyItem(
            atPath: Fixtures.path(StoreFixtures.mlflowFolder + "/mlruns"), toPath: mlruns)
        let following = Following([mlruns], pollInterval: Self.never)
        following.poll()
        #expect(following.runs == StoreFixtures.mlflowRuns().map(\.name))
        let run = try #require(StoreFixtures.mlflowRuns().first)
        #expect(following.steps(run.name).count == run.samples.count)
        // The KL file of the first run (`train/kl`, so in the `train` folder under metrics/).
        let file: String = try {
            for experiment in try FileManager.default.contentsOfDirectory(atPath: mlruns) {
                for id in (try? FileManager.default.contentsOfDirectory(atPath: mlruns + "/" + experiment))
                    ?? []
                {
                    let tag = mlruns + "/" + experiment + "/" + id + "/tags/mlflow.runName"
                    if (try? String(contentsOfFile: tag, encoding: .utf8)) == run.runName {
                        return mlruns + "/" + experiment + "/" + id + "/metrics/train/kl"
                    }
                }
            }
            throw CocoaError(.fileNoSuchFile)
        }()
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data("1800000000000 0.031 40\n".utf8))
        try handle.close()
        #expect(following.poll(after: 0.01) == [40], "inotify on the run's metric folder")
        #expect(following.poll(after: 0.01) == [])
    }

    @Test func anMLflowDatabaseWakesTheFollowerWhenMLflowCommits() throws {
        let root = try TemporaryDirectory.make("kltop-stores")
        let path = root.appendingPathComponent("mlflow.db").path
        try FileManager.default.copyItem(
            atPath: Fixtures.path(StoreFixtures.mlflowFolder + "/mlflow.db"), toPath: path)
        let following = Following([root.path], pollInterval: Self.never)
        following.poll()
        #expect(following.runs == StoreFixtures.mlflowRuns().map(\.name))
        var db: OpaquePointer?
        sqlite3_open(path, &db)
        defer { sqlite3_close(db) }
        let insert = """
            INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)
            SELECT 'train/kl', 0.031, 1, run_uuid, 40, 0 FROM runs WHERE name = 'ppo-lr3e-6'
            """
        #expect(sqlite3_exec(db, insert, nil, nil, nil) == SQLITE_OK)
        #expect(following.poll(after: 0.01) == [40])
        #expect(following.steps("ppo-lr3e-6").count == 41)
    }
}
