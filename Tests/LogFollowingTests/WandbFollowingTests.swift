import Foundation
import TestSupport
import Testing

@testable import LogFollowing
@testable import RunLogs

/// W&B's `wandb/` folders followed: each run once (not again through `latest-run`), named as W&B names it,
/// and a run file read while it grows the way wandb-core writes it.
@Suite(.serialized) struct WandbFollowingTests {
    /// A copy of the fixtures' `wandb/` folder, with what wandb keeps beside the run files in a real one:
    /// its debug logs in each run folder, the console output in `files/output.log`, and links to the
    /// latest run's debug logs in `wandb/`.
    static func wandbFolder() throws -> URL {
        let root = try TemporaryDirectory.make("kltop-wandb")
        let wandb = root.appendingPathComponent("wandb")
        let entries = try FileManager.default.contentsOfDirectory(atPath: WandbFixtures.folder).sorted()
        for entry in entries where entry.hasPrefix("offline-run-") {
            let id = String(entry.split(separator: "-").last!)
            let folder = wandb.appendingPathComponent(entry)
            try write(WandbFixtures.bytes(id: id), to: folder.appendingPathComponent("run-\(id).wandb"))
            try write(
                "2026-12-07 02:31:25 INFO wandb_init.py:init():800 starting run\n",
                to: folder.appendingPathComponent("logs/debug.log"))
            try write(
                "{\"time\":\"2026-12-07T02:31:25Z\",\"level\":\"INFO\"}\n",
                to: folder.appendingPathComponent("logs/debug-internal.log"))
            try write("step:1 - actor/kl_loss:0.5\n", to: folder.appendingPathComponent("files/output.log"))
        }
        let latest = try FileManager.default.destinationOfSymbolicLink(
            atPath: WandbFixtures.folder + "/latest-run")
        try FileManager.default.createSymbolicLink(
            atPath: wandb.appendingPathComponent("latest-run").path, withDestinationPath: latest)
        try FileManager.default.createSymbolicLink(
            atPath: wandb.appendingPathComponent("debug.log").path,
            withDestinationPath: latest + "/logs/debug.log")
        try FileManager.default.createSymbolicLink(
            atPath: wandb.appendingPathComponent("debug-internal.log").path,
            withDestinationPath: latest + "/logs/debug-internal.log")
        return wandb
    }

    @Test func aWandbFolderIsItsRunFilesEachOnce() throws {
        let wandb = try Self.wandbFolder()
        let files = PathSpec(argument: wandb.path).scan().files
        #expect(
            files.map { RunLogFiles.name(of: $0) } == [
                "run-grpo01.wandb", "run-ppo02.wandb", "run-big03.wandb",
            ])
        #expect(!files.contains { $0.contains("latest-run") })
        let following = Following([wandb.path])
        following.poll()
        following.finish()
        #expect(following.runs == WandbFixtures.runs.map(\.name))
        #expect(following.sources.allSatisfy { $0.hasSuffix(".wandb") && !$0.contains("latest-run") })
        for run in WandbFixtures.runs {
            let key = run.id == "ppo02" ? "actor/kl_loss" : "kl"
            #expect(following.steps(run.name) == WandbFixtures.expected(run: run.name, key: key).map(\.step))
            #expect(following.statistics[run.name]?.badLines == 0)
        }
        // Named on its own, `latest-run` is the latest run.
        let latest = Following([wandb.appendingPathComponent("latest-run").path])
        latest.poll()
        latest.finish()
        #expect(latest.runs == ["long-run"])
    }

    /// A link to a run kept elsewhere is followed; a link back up the tree is not walked again.
    @Test func aLinkIsFollowedOnlyToWhatTheWalkDoesNotReachOtherwise() throws {
        let root = try TemporaryDirectory.make("kltop-links")
        let elsewhere = try TemporaryDirectory.make("kltop-elsewhere")
        try write(
            WandbFixtures.bytes(id: "grpo01"), to: elsewhere.appendingPathComponent("run-9/run-grpo01.wandb"))
        try write("{\"kl\": 0.5, \"step\": 1}\n", to: root.appendingPathComponent("runs/a/metrics.jsonl"))
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("runs/b").path,
            withDestinationPath: elsewhere.appendingPathComponent("run-9").path)
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("runs/a/up").path, withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("runs/same.jsonl").path,
            withDestinationPath: "a/metrics.jsonl")
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("runs/later.jsonl").path, withDestinationPath: "not-yet.jsonl"
        )
        let files = PathSpec(argument: root.path).scan().files.map {
            String($0.dropFirst(root.path.count + 1))
        }
        #expect(files == ["runs/a/metrics.jsonl", "runs/b/run-grpo01.wandb", "runs/later.jsonl"])
    }

    /// Two runs of one display name are told apart by their folders.
    @Test func runsOfTheSameNameAreToldApart() throws {
        let wandb = try TemporaryDirectory.make("kltop-wandb-same")
        for folder in ["offline-run-20261207_010000-grpo01", "offline-run-20261207_020000-grpo01"] {
            try write(
                WandbFixtures.bytes(id: "grpo01"),
                to: wandb.appendingPathComponent("\(folder)/run-grpo01.wandb"))
        }
        let following = Following([wandb.path])
        following.poll()
        following.finish()
        #expect(following.runs == ["grpo-beta-0.04", "offline-run-20261207_020000-grpo01/grpo-beta-0.04"])
        #expect(following.samples.count == 60)
    }

    /// The run file written as wandb-core writes it: a block at a time (and the last part at close), the
    /// blocks ending inside records. Every step once, in order, all under the run's W&B name.
    @Test(arguments: [32 * 1024, 5000])
    func aRunFileGrowingBlockByBlock(_ piece: Int) throws {
        let wandb = try TemporaryDirectory.make("kltop-wandb-live")
        let path = wandb.appendingPathComponent("offline-run-20261207_023128-big03/run-big03.wandb")
        try FileManager.default.createDirectory(
            at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path.path, contents: Data(WandbLogEncoding.header))
        let following = Following([wandb.path])
        following.poll()
        let bytes = WandbFixtures.bytes(id: "big03")
        let handle = try FileHandle(forWritingTo: path)
        handle.seekToEndOfFile()
        var offset = WandbLogEncoding.header.count
        while offset < bytes.count {
            let end = min(bytes.count, (offset / piece + 1) * piece)
            handle.write(Data(bytes[offset..<end]))
            offset = end
            following.poll()
            #expect(following.statistics["long-run"]?.badLines ?? 0 == 0)
        }
        try handle.close()
        following.poll()
        let expected = WandbFixtures.expected(run: "long-run", key: "kl").map(\.step)
        #expect(following.steps("long-run") == expected)
        following.finish()
        #expect(following.steps("long-run") == expected)
        #expect(following.samples.allSatisfy { $0.run == "long-run" }, "named before its first samples")
        #expect(following.runs == ["long-run"])
    }
}
