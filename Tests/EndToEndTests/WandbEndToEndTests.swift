import Foundation
import TestSupport
import Testing

/// W&B run files through the built binary: `kltop export` gives every value wandb logged, exactly, under
/// the run's W&B name; and follows a run file while it grows the way wandb-core writes it.
@Suite(.serialized) struct WandbEndToEndTests {
    typealias Value = WandbFixtures.Value

    /// The export's lines as expected.json spells values, under `key`.
    static func values(_ lines: [String], key: String) -> [Value] {
        FollowFormatsLiveTests.exported(lines).map {
            Value(run: $0.run, key: key, step: $0.step.step, value: $0.step.value)
        }
    }

    static func lines(_ output: String) -> [String] { output.split(separator: "\n").map(String.init) }

    /// The whole `wandb/` folder: three runs, each once (not again through `latest-run`), each under its
    /// W&B name, with every value of the key kltop chooses, to the bit.
    @Test func exportingAWandbFolderGivesEveryValueExactly() throws {
        let result = try Kltop.run(["export", WandbFixtures.folder])
        #expect(result.status == 0, "\(result.standardError)")
        let exported = FollowFormatsLiveTests.exported(Self.lines(result.standardOutput))
        #expect(Set(exported.map(\.run)) == Set(WandbFixtures.runs.map(\.name)))
        for (name, key) in [("grpo-beta-0.04", "kl"), ("ppo02", "actor/kl_loss"), ("long-run", "kl")] {
            let run = exported.filter { $0.run == name }.map {
                Value(run: name, key: key, step: $0.step.step, value: $0.step.value)
            }
            #expect(run == WandbFixtures.expected(run: name, key: key), "\(name)")
        }
        #expect(Self.lines(result.standardOutput).count == 30 + 39 + 80)
    }

    /// `--metric` names a flat key, or a nested one as W&B shows it (`actor.kl_loss`); `--input-format wandb`
    /// reads a file whatever its name.
    @Test func metricsAndTheForcedFormat() throws {
        let cases: [(id: String, metric: String, key: String)] = [
            ("ppo02", "actor.kl_loss", "actor/kl_loss"), ("ppo02", "actor.ppo_kl", "actor/ppo_kl"),
            ("grpo01", "train/kl", "train/kl"), ("ppo02", "train/kl", "train/kl"),
        ]
        for test in cases {
            let name = WandbFixtures.runs.first { $0.id == test.id }!.name
            let result = try Kltop.run(["export", "--metric", test.metric, WandbFixtures.path(id: test.id)])
            #expect(result.status == 0)
            #expect(
                Self.values(Self.lines(result.standardOutput), key: test.key)
                    == WandbFixtures.expected(run: name, key: test.key), "\(test.metric)")
        }
        let directory = try TemporaryDirectory.make("kltop-wandb-forced")
        let renamed = directory.appendingPathComponent("copy.bin")
        try Data(WandbFixtures.bytes(id: "big03")).write(to: renamed)
        let forced = try Kltop.run(["export", "--input-format", "wandb", renamed.path])
        #expect(
            Self.values(Self.lines(forced.standardOutput), key: "kl")
                == WandbFixtures.expected(run: "long-run", key: "kl"))
    }

    /// Through standard input the run is named by its log too, unless `--name` names it.
    @Test func standardInputIsNamedByTheLogUnlessNamed() throws {
        let bytes = Data(WandbFixtures.bytes(id: "grpo01"))
        let unnamed = try Kltop.run(["export", "-"], input: bytes)
        #expect(
            Set(FollowFormatsLiveTests.exported(Self.lines(unnamed.standardOutput)).map(\.run)) == [
                "grpo-beta-0.04"
            ])
        let named = try Kltop.run(["export", "--name", "mine", "-"], input: bytes)
        #expect(Set(FollowFormatsLiveTests.exported(Self.lines(named.standardOutput)).map(\.run)) == ["mine"])
        #expect(FollowFormatsLiveTests.exported(Self.lines(named.standardOutput)).count == 30)
    }

    /// `kltop check` names the runs after W&B and says which key it read.
    @Test func checkReportsTheRunsByTheirWandbNames() throws {
        let result = try Kltop.run(["check", "--warmup", "5", "--window", "8", WandbFixtures.folder])
        for name in WandbFixtures.runs.map(\.name) {
            #expect(result.standardOutput.contains("\(name): "), "\(result.standardOutput)")
        }
        #expect(result.standardError.contains("ppo02: reading KL from \"actor/kl_loss\""))
        #expect(result.standardOutput.contains("long-run: 80 KL samples (\"kl\")"))
    }

    /// A run file wandb is still writing ends inside a record: `check` and `export` say it is still being
    /// written, report no bad record, and exit as on the records before it. After the exit record, the
    /// same cut is damage: a bad record.
    @Test func aLiveRunFileCutInsideARecordIsNoBadRecord() throws {
        let directory = try TemporaryDirectory.make("kltop-wandb-cut")
        let whole = WandbFixtures.bytes(id: "grpo01")
        let live = directory.appendingPathComponent("run-grpo01.wandb")
        try Data(whole[..<(whole.count / 2)]).write(to: live)
        let damaged = directory.appendingPathComponent("run-damaged.wandb")
        try Data(WandbLogEncoding.withACutRecordAfterItsEnd(whole)).write(to: damaged)
        for command in ["check", "export"] {
            let result = try Kltop.run([command, live.path])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(
                result.standardError.contains("grpo-beta-0.04: its last record is incomplete (")
                    && result.standardError.contains("still being written?"), "\(result.standardError)")
            #expect(!result.standardError.contains("bad record"), "\(result.standardError)")
            let finished = try Kltop.run([command, damaged.path])
            #expect(
                finished.standardError.contains("grpo-beta-0.04: skipped 1 bad record (record ")
                    && finished.standardError.contains("record cut short: the file ends 47 bytes into it"),
                "\(finished.standardError)")
        }
    }

    /// Two runs written live into a `wandb/` folder that holds nothing yet: each file starts as wandb-core
    /// starts it (the 7-byte header alone), then grows by whole 32 KiB blocks, the last part written at
    /// close. `kltop export --follow` gives every step once, in order, with its exact value, under the
    /// runs' W&B names.
    @Test(arguments: FollowFormatsLiveTests.WakeUp.allCases)
    func runFilesFollowedWhileWandbCoreWritesThem(_ wakeUp: FollowFormatsLiveTests.WakeUp) throws {
        let wandb = try TemporaryDirectory.make("kltop-wandb-follow").appendingPathComponent("wandb")
        try FileManager.default.createDirectory(at: wandb, withIntermediateDirectories: true)
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [wandb.path])
        defer { kltop.interrupt() }
        let runs = [
            ("grpo01", "offline-run-20261207_023125-grpo01"), ("big03", "offline-run-20261207_023128-big03"),
        ]
        var handles: [(FileHandle, [UInt8])] = []
        for (id, folder) in runs {
            let path = wandb.appendingPathComponent("\(folder)/run-\(id).wandb")
            try FileManager.default.createDirectory(
                at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path.path, contents: Data(WandbLogEncoding.header))
            let handle = try FileHandle(forWritingTo: path)
            handle.seekToEndOfFile()
            handles.append((handle, WandbFixtures.bytes(id: id)))
        }
        let block = 32 * 1024
        for start in stride(from: 0, to: 4 * block, by: block) {
            for (handle, bytes) in handles where start < bytes.count {
                handle.write(
                    Data(bytes[max(start, WandbLogEncoding.header.count)..<min(bytes.count, start + block)]))
            }
            pause(milliseconds: 300)
        }
        for (handle, _) in handles { try handle.close() }
        let expected = [("grpo-beta-0.04", "kl"), ("long-run", "kl")].flatMap {
            WandbFixtures.expected(run: $0.0, key: $0.1)
        }
        let caughtUp = kltop.waitUntil(timeout: 30) {
            FollowFormatsLiveTests.exported($0).count >= expected.count
        }
        kltop.interrupt()
        #expect(caughtUp, "\(kltop.standardError)")
        let exported = Self.values(kltop.outputLines, key: "kl")
        for name in ["grpo-beta-0.04", "long-run"] {
            #expect(exported.filter { $0.run == name } == expected.filter { $0.run == name }, "\(name)")
        }
        #expect(kltop.outputLines.count == expected.count, "lines that are not expected steps")
    }
}
