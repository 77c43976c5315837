import Foundation
import TestSupport
import Testing

/// SwanLab run files through the built binary: `kltop export` gives every value swanlab logged, exactly,
/// under the experiment's name; `check` names the runs so; a run file followed while it grows the way
/// swanlab writes it.
@Suite(.serialized) struct SwanlabEndToEndTests {
    typealias Value = SwanlabFixtures.Value

    static func values(_ lines: [String], key: String) -> [Value] {
        FollowFormatsLiveTests.exported(lines).map {
            Value(run: $0.run, key: key, step: $0.step.step, value: $0.step.value)
        }
    }

    static func lines(_ output: String) -> [String] { output.split(separator: "\n").map(String.init) }

    static let keys = [
        ("grpo-seed0", "actor/kl_loss"), ("ppo-explicit", "train/kl"), ("long-run", "train/kl"),
        ("live-run", "train/kl"),
    ]

    /// The whole `swanlog/` folder: four runs, each once, under its experiment name, with every value of the
    /// key kltop chooses, to the bit; the live run's cut record is said as still being written, not read,
    /// and is no bad record.
    @Test func exportingASwanlogFolderGivesEveryValueExactly() throws {
        let result = try Kltop.run(["export", SwanlabFixtures.folder])
        #expect(result.status == 0, "\(result.standardError)")
        let exported = FollowFormatsLiveTests.exported(Self.lines(result.standardOutput))
        #expect(Set(exported.map(\.run)) == Set(SwanlabFixtures.names))
        for (name, key) in Self.keys {
            let run = exported.filter { $0.run == name }.map {
                Value(run: name, key: key, step: $0.step.step, value: $0.step.value)
            }
            #expect(run == SwanlabFixtures.expected(run: name, key: key), "\(name)")
        }
        #expect(Self.lines(result.standardOutput).count == 40 + 34 + 900 + 579)
        #expect(
            result.standardError.contains("live-run: its last record is incomplete ("),
            "\(result.standardError)")
        #expect(!result.standardError.contains("bad record"), "\(result.standardError)")
    }

    /// `--metric` names the update-size key, or a nested one with dots; `--input-format swanlab` reads a
    /// file whatever its name.
    @Test func metricsAndTheForcedFormat() throws {
        for metric in ["actor.ppo_kl", "actor/ppo_kl"] {
            let result = try Kltop.run(
                ["export", "--metric", metric, SwanlabFixtures.path(name: "grpo-seed0")])
            #expect(result.status == 0)
            #expect(
                Self.values(Self.lines(result.standardOutput), key: "actor/ppo_kl")
                    == SwanlabFixtures.expected(run: "grpo-seed0", key: "actor/ppo_kl"), "\(metric)")
        }
        let directory = try TemporaryDirectory.make("kltop-swanlab-forced")
        let renamed = directory.appendingPathComponent("copy.bin")
        try Data(SwanlabFixtures.bytes(name: "ppo-explicit")).write(to: renamed)
        let forced = try Kltop.run(["export", "--input-format", "swanlab", renamed.path])
        #expect(
            Self.values(Self.lines(forced.standardOutput), key: "train/kl")
                == SwanlabFixtures.expected(run: "ppo-explicit", key: "train/kl"))
    }

    /// `kltop check` names the runs after their experiments and says which key it read.
    @Test func checkReportsTheRunsByTheirExperimentNames() throws {
        let result = try Kltop.run(["check", "--warmup", "5", "--window", "8", SwanlabFixtures.folder])
        for name in SwanlabFixtures.names {
            #expect(result.standardOutput.contains("\(name): "), "\(result.standardOutput)")
        }
        #expect(result.standardError.contains("grpo-seed0: reading KL from \"actor/kl_loss\""))
        #expect(result.standardOutput.contains("long-run: 900 KL samples (\"train/kl\")"))
    }

    /// Two runs written live into a `swanlog/` folder that holds nothing yet: each file starts with its
    /// header, then grows by Python's 8 KiB buffers, ending anywhere in a record, the rest written at
    /// close. `kltop export --follow` gives every step once, in order, with its exact value.
    @Test(arguments: FollowFormatsLiveTests.WakeUp.allCases)
    func runFilesFollowedWhileSwanlabWritesThem(_ wakeUp: FollowFormatsLiveTests.WakeUp) throws {
        let swanlog = try TemporaryDirectory.make("kltop-swanlab-follow").appendingPathComponent("swanlog")
        try FileManager.default.createDirectory(at: swanlog, withIntermediateDirectories: true)
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [swanlog.path])
        defer { kltop.interrupt() }
        var handles: [(FileHandle, [UInt8])] = []
        for (index, name) in ["grpo-seed0", "long-run"].enumerated() {
            let path = swanlog.appendingPathComponent(
                "run-20261207_05181\(index)-id\(index)/run-id\(index).swanlab")
            try FileManager.default.createDirectory(
                at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path.path, contents: Data(SwanlabLogEncoding.header))
            let handle = try FileHandle(forWritingTo: path)
            handle.seekToEndOfFile()
            handles.append((handle, SwanlabFixtures.bytes(name: name)))
        }
        let piece = 8192
        let longest = handles.map(\.1.count).max()!
        for start in stride(from: 0, to: longest, by: piece) {
            for (handle, bytes) in handles where start < bytes.count {
                handle.write(Data(bytes[max(start, 7)..<min(bytes.count, start + piece)]))
            }
            pause(milliseconds: 100)
        }
        for (handle, _) in handles { try handle.close() }
        let expected = Self.keys.prefix(3).filter { $0.0 != "ppo-explicit" }.flatMap {
            SwanlabFixtures.expected(run: $0.0, key: $0.1)
        }
        let caughtUp = kltop.waitUntil(timeout: 30) {
            FollowFormatsLiveTests.exported($0).count >= expected.count
        }
        kltop.interrupt()
        #expect(caughtUp, "\(kltop.standardError)")
        let exported = FollowFormatsLiveTests.exported(kltop.outputLines)
        for (name, key) in [("grpo-seed0", "actor/kl_loss"), ("long-run", "train/kl")] {
            let run = exported.filter { $0.run == name }.map {
                Value(run: name, key: key, step: $0.step.step, value: $0.step.value)
            }
            #expect(run == SwanlabFixtures.expected(run: name, key: key), "\(name)")
        }
        #expect(kltop.outputLines.count == expected.count, "lines that are not expected steps")
    }
}
