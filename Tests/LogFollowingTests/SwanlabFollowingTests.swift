import Foundation
import TestSupport
import Testing

@testable import LogFollowing
@testable import RunLogs

/// SwanLab's `swanlog/` folders followed: each run once, from its run file alone (not its
/// `debug/debug.log`), named by its experiment, and a run file read while it grows the way swanlab
/// writes it.
@Suite(.serialized) struct SwanlabFollowingTests {
    @Test func aSwanlogFolderIsItsRunFilesEachOnce() throws {
        let files = PathSpec(argument: SwanlabFixtures.folder).scan().files
        #expect(files.count == 4)
        #expect(files.allSatisfy { RunLogFiles.name(of: $0).hasSuffix(".swanlab") }, "\(files)")
        let following = Following([SwanlabFixtures.folder])
        following.poll()
        following.finish()
        #expect(following.runs == SwanlabFixtures.names)
        #expect(following.sources.allSatisfy { $0.hasSuffix(".swanlab") })
        for name in SwanlabFixtures.names {
            let key = name == "grpo-seed0" ? "actor/kl_loss" : "train/kl"
            #expect(
                following.steps(name) == SwanlabFixtures.expected(run: name, key: key).map(\.step), "\(name)")
            // Read to the end, the live run's cut record is still being written, not bad.
            #expect(following.statistics[name]?.badLines == 0, "\(name)")
            #expect((following.statistics[name]?.heldAtEnd ?? 0 > 0) == (name == "live-run"), "\(name)")
        }
        // A project folder holding `swanlog/`: the same runs, each once.
        let project = try TemporaryDirectory.make("kltop-swanlab-project")
        try FileManager.default.createSymbolicLink(
            atPath: project.appendingPathComponent("swanlog").path,
            withDestinationPath: SwanlabFixtures.folder)
        try write("step 1 kl 0.5\n", to: project.appendingPathComponent("train.log"))
        let fromProject = Following([project.path])
        fromProject.poll()
        fromProject.finish()
        #expect(Set(SwanlabFixtures.names).isSubset(of: Set(fromProject.runs)), "\(fromProject.runs)")
        #expect(fromProject.runs.filter { SwanlabFixtures.names.contains($0) }.count == 4)
    }

    /// The run file written as swanlab writes it: the header and start record first, then a Python
    /// buffer's worth at a time (or whole blocks), each ending anywhere in a record. Every step once, in
    /// order, under the experiment's name.
    @Test(arguments: [8192, 32 * 1024, 1000])
    func aRunFileGrowingBufferByBuffer(_ piece: Int) throws {
        let swanlog = try TemporaryDirectory.make("kltop-swanlab-live").appendingPathComponent("swanlog")
        let bytes = SwanlabFixtures.bytes(name: "long-run")
        let path = swanlog.appendingPathComponent("run-20261207_051817-abcd1234/run-abcd1234.swanlab")
        try write(Array(bytes.prefix(7)), to: path)
        let following = Following([swanlog.path])
        following.poll()
        let handle = try FileHandle(forWritingTo: path)
        handle.seekToEndOfFile()
        var offset = 7
        while offset < bytes.count {
            let end = min(bytes.count, (offset / piece + 1) * piece)
            handle.write(Data(bytes[offset..<end]))
            offset = end
            following.poll()
            #expect(following.statistics["long-run"]?.badLines ?? 0 == 0)
            let steps = following.steps("long-run")
            #expect(
                steps
                    == Array(
                        SwanlabFixtures.expected(run: "long-run", key: "train/kl").map(\.step).prefix(
                            steps.count)))
        }
        try handle.close()
        following.poll()
        let expected = SwanlabFixtures.expected(run: "long-run", key: "train/kl").map(\.step)
        #expect(following.steps("long-run") == expected)
        following.finish()
        #expect(following.steps("long-run") == expected)
        #expect(following.samples.allSatisfy { $0.run == "long-run" }, "named before its first samples")
    }
}
