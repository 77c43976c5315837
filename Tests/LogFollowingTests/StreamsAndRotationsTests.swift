import Foundation
import RunLogs
import TestSupport
import Testing

@testable import LogFollowing

private func jsonl(_ steps: some Sequence<Int>) -> String {
    steps.map { "{\"step\": \($0), \"kl\": 0.0\($0 % 9 + 1)}\n" }.joined()
}

/// A log and its rotations, followed through the library with a clock the test moves.
@Suite(.serialized) struct RotatedLogTests {
    /// logrotate's numbering with `compress` and `delaycompress`: `.1` plain, older ones gzipped; the
    /// rotation before the live log overlaps it by three steps.
    private func rotatedFolder() throws -> URL {
        let folder = try TemporaryDirectory.make("kltop-rotations").appendingPathComponent("ppo")
        try write(Compressing.gzip(jsonl(0..<25)), to: folder.appendingPathComponent("train.jsonl.3.gz"))
        try write(Compressing.gzip(jsonl(25..<50)), to: folder.appendingPathComponent("train.jsonl.2.gz"))
        try write(jsonl(50..<78), to: folder.appendingPathComponent("train.jsonl.1"))
        try write(jsonl(75..<100), to: folder.appendingPathComponent("train.jsonl"))
        return folder
    }

    @Test func aLogAndItsRotationsAreOneRunEveryStepOnceInOrder() throws {
        let folder = try rotatedFolder()
        let following = Following([folder.deletingLastPathComponent().path])
        following.poll()
        following.finish()
        #expect(following.runs == ["ppo"])
        #expect(following.sources == [folder.path], "the run folder")
        #expect(following.steps("ppo") == Array(0..<100))
        let statistics = try #require(following.statistics["ppo"])
        #expect(statistics.repeatedSteps == 3 && statistics.samples == 100 && statistics.badLines == 0)
    }

    @Test func theLiveLogIsFollowedAfterItsRotationsThroughTheNextRotation() throws {
        let folder = try rotatedFolder()
        let following = Following([folder.path])
        following.poll()
        #expect(following.steps("ppo") == Array(0..<100))
        let live = folder.appendingPathComponent("train.jsonl")
        let handle = try FileHandle(forWritingTo: live)
        handle.seekToEndOfFile()
        handle.write(Data(jsonl(100..<110).utf8))
        #expect(following.poll() == Array(100..<110))
        // logrotate: every rotation moves up one, the live log becomes `.1`, a new live log is made.
        let manager = FileManager.default
        try manager.removeItem(at: folder.appendingPathComponent("train.jsonl.3.gz"))
        try manager.moveItem(
            at: folder.appendingPathComponent("train.jsonl.2.gz"),
            to: folder.appendingPathComponent("train.jsonl.3.gz"))
        try write(
            Compressing.gzip(jsonl(50..<78)), to: folder.appendingPathComponent("train.jsonl.2.gz"))
        try manager.removeItem(at: folder.appendingPathComponent("train.jsonl.1"))
        handle.write(Data(jsonl(110..<115).utf8))  // the writer has not reopened yet
        try manager.moveItem(at: live, to: folder.appendingPathComponent("train.jsonl.1"))
        handle.write(Data(jsonl(115..<120).utf8))
        try handle.close()
        try write(jsonl(120..<130), to: live)
        following.poll()
        following.poll()
        #expect(following.steps("ppo") == Array(0..<130), "every step once, in order")
        #expect(following.runs == ["ppo"])
    }

    @Test func datedRotationsAreReadByDate() throws {
        let folder = try TemporaryDirectory.make("kltop-dated").appendingPathComponent("grpo")
        try write(jsonl(10..<20), to: folder.appendingPathComponent("metrics.log-20261202"))
        try write(
            Compressing.zstd(jsonl(0..<10)), to: folder.appendingPathComponent("metrics.log-20261201.zst"))
        try write(jsonl(20..<30), to: folder.appendingPathComponent("metrics.log"))
        let following = Following([folder.path])
        following.poll()
        following.finish()
        #expect(following.runs == ["grpo"])
        #expect(following.steps("grpo") == Array(0..<30))
    }

    /// A file named on the command line is followed as `tail -F` follows it: its rotations are not read.
    @Test func aFileNamedOnItsOwnIsReadAlone() throws {
        let folder = try rotatedFolder()
        let following = Following([folder.appendingPathComponent("train.jsonl").path])
        following.poll()
        following.finish()
        #expect(following.steps("ppo") == Array(75..<100))
    }
}

/// FIFOs and pipes: read until their writer closes them, however late it comes.
@Suite(.serialized) struct StreamSourceTests {
    @Test func aFIFOIsWaitedForUntilItsWriterOpensItAndReadUntilItClosesIt() throws {
        let folder = try TemporaryDirectory.make("kltop-fifo")
        let path = folder.appendingPathComponent("kl.fifo").path
        #expect(mkfifo(path, 0o600) == 0)
        let following = Following([path])
        following.poll()
        #expect(following.samples.isEmpty)
        #expect(following.notices.contains { $0.kind == .waitingForWriter })
        #expect(following.follower.isWaitingForStreams && !following.follower.hasEnded)
        following.poll()
        #expect(following.ended.isEmpty, "no writer yet is not the end")

        let writer = open(path, O_WRONLY | O_NONBLOCK)
        #expect(writer >= 0)
        func send(_ text: String) { _ = text.withCString { Glibc.write(writer, $0, strlen($0)) } }
        send(jsonl(0..<3))
        #expect(following.poll(after: 0.01) == [0, 1, 2])
        send("{\"step\": 3, \"kl\": 0.5}")  // the last record, without its newline
        #expect(following.poll(after: 0.01).isEmpty)
        close(writer)
        #expect(following.poll(after: 0.01) == [3])
        #expect(following.ended == ["kl"])
        #expect(!following.follower.isWaitingForStreams && following.follower.hasEnded)
        #expect(following.notices.contains { $0.kind == .streamEnded })
    }

    @Test func pipesAreNamedPipeAndCountedOrAsTold() throws {
        var first: [Int32] = [0, 0]
        var second: [Int32] = [0, 0]
        #expect(pipe(&first) == 0 && pipe(&second) == 0)
        defer { for fd in first + second { close(fd) } }
        let paths = ["/dev/fd/\(first[0])", "/dev/fd/\(second[0])"]
        let counted = Following(paths)
        counted.poll()
        #expect(counted.runs == ["pipe1", "pipe2"])
        let alone = Following([paths[0]])
        alone.poll()
        #expect(alone.runs == ["pipe"])
        var options = FollowOptions()
        options.streamNames = ["node1"]
        let named = Following(paths, options: options)
        named.poll()
        #expect(named.runs == ["node1", "pipe2"])
        #expect(LogFollower.streamCount(paths + ["-", "run.jsonl"]) == 3)
    }

    /// A pipe whose writer is slow to start is not an empty log: reading to the end waits for it.
    @Test func aPipeWithNothingInItYetIsWaitedFor() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let following = Following(["/dev/fd/\(ends[0])"])
        following.poll()
        #expect(following.follower.isWaitingForStreams, "an empty pipe with a writer has not ended")
        #expect(following.follower.waitDescriptors.count >= 1)
        _ = jsonl(0..<2).withCString { Glibc.write(ends[1], $0, strlen($0)) }
        close(ends[1])
        following.poll(after: 0.01)
        #expect(following.steps("pipe") == [0, 1])
        #expect(following.follower.hasEnded)
    }
}
