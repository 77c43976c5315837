import Foundation
import TestSupport
import Testing

@testable import LogFollowing

/// Following by name in the cases a real machine produces and the torture test does not: how a path is
/// spelled, a log folder made after kltop started, logrotate's `create` mode, a rewrite that keeps the
/// size, a read that fails.
@Suite(.serialized) struct FollowingByNameTests {
    @Test func pathsAreSpelledTheWayInotifyReportsThem() {
        #expect(RunLogFiles.normalized("run.jsonl") == "run.jsonl")
        #expect(RunLogFiles.normalized("./run.jsonl") == "run.jsonl")
        #expect(RunLogFiles.normalized("runs//a/./b.jsonl") == "runs/a/b.jsonl")
        #expect(RunLogFiles.normalized("runs/") == "runs")
        #expect(RunLogFiles.normalized("./") == ".")
        #expect(RunLogFiles.normalized("//tmp///x/") == "/tmp/x")
        #expect(RunLogFiles.normalized("/") == "/")
        #expect(RunLogFiles.normalized("../logs/a.csv") == "../logs/a.csv")
        // What inotify reports for a watched directory and a name is the followed path again.
        for path in ["run.jsonl", "runs/a/b.jsonl", "/tmp/x", "/x", "../logs/a.csv"] {
            let name = String(path.split(separator: "/").last!)
            #expect(RunLogFiles.join(RunLogFiles.parent(of: path), name) == path)
        }
    }

    @Test func aPathThatDoesNotExistYetIsAFileOrAFolderByItsLook() {
        let missing = "/nonexistent-\(UUID().uuidString)"
        #expect(PathSpec(argument: missing + "/run.jsonl") == .file(missing + "/run.jsonl"))
        #expect(PathSpec(argument: missing + "/runs/") == .directory(missing + "/runs"))
        #expect(PathSpec(argument: missing + "/runs") == .directory(missing + "/runs"))
        #expect(PathSpec(argument: "./" + "nonexistent-\(UUID().uuidString).csv").isFile)
    }

    /// `kltop check --follow outputs/` started before the trainer made the folder.
    @Test func aFolderMadeAfterKltopStartedIsFollowed() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let folder = root.appendingPathComponent("runs")
        let following = Following([folder.path])
        #expect(following.poll().isEmpty)
        #expect(following.notices.map(\.kind) == [.waitingForFile])
        try write("{\"step\": 1, \"kl\": 0.1}\n", to: folder.appendingPathComponent("ppo/log.jsonl"))
        #expect(following.poll() == [1])
        #expect(following.runs == ["ppo"])
    }

    /// TensorBoard walks a logdir to any depth: a run seven folders down is a run too; and a Slurm job's
    /// console output (`slurm-123.out`) is a log.
    @Test func deepRunsAndSlurmOutputAreFound() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let deep = root.appendingPathComponent("a/b/c/d/e/f/g")
        try write(eventFile(steps: 0..<3), to: deep.appendingPathComponent("events.out.tfevents.1.h"))
        try write(
            "{'loss': 0.5, 'kl': 0.01, 'epoch': 0.1}\n", to: root.appendingPathComponent("slurm-123.out"))
        let following = Following([root.path])
        following.poll()
        following.poll()  // a one-line console log is taken once its writer has been quiet
        #expect(following.steps("g") == [0, 1, 2])
        #expect(following.steps("slurm-123") == [1])
    }

    /// torchtune's DiskLogger file (`<output_dir>/logs/log_<unix>.txt`) is a log of the output folder's run;
    /// other `.txt` files are not run logs.
    @Test func torchtunesDiskLogIsFoundAndNamedByItsOutputFolder() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let logs = root.appendingPathComponent("grpo_qwen3b/logs")
        try write(
            "Step 1 | loss:0.5 kl_loss:tensor(0.0230, device='cuda:0') \nStep 2 | kl_loss:tensor(0.5000) \n",
            to: logs.appendingPathComponent("log_1700000000.txt"))
        try write("Step 3 | kl_loss:9.9 \n", to: logs.appendingPathComponent("notes.txt"))
        let following = Following([root.path])
        following.poll()
        following.poll()
        #expect(following.steps("grpo_qwen3b") == [1, 2])
        #expect(following.runs == ["grpo_qwen3b"])
    }

    /// A name that looks like a file's (`qwen2.5-grpo`) but is made as a folder is followed as one.
    @Test func aFileNameThatBecomesAFolderIsFollowedAsAFolder() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let folder = root.appendingPathComponent("qwen2.5-grpo")
        let following = Following([folder.path])
        following.poll()
        try write("{\"step\": 7, \"kl\": 0.1}\n", to: folder.appendingPathComponent("metrics.jsonl"))
        #expect(following.poll() == [7])
        #expect(following.runs.last == "qwen2.5-grpo")
        #expect(!following.notices.contains { $0.isProblem })
    }

    /// A name without an extension (`logs/stdout`, `train`) is waited for as a folder; made as a file, it is
    /// followed as one (it stayed "no run logs in it yet" forever).
    @Test func aFolderNameThatBecomesAFileIsFollowedAsAFile() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let path = root.appendingPathComponent("grpo-run")
        let following = Following([path.path])
        #expect(following.poll().isEmpty)
        let writer = try Appender(path.path)
        writer.append(steps: 1..<2)
        #expect(following.poll() == [1])
        writer.append(steps: 2..<4)
        #expect(following.poll() == [2, 3])
        #expect(following.runs == ["grpo-run"])
        #expect(!following.notices.contains { $0.isProblem })
    }

    /// A finished log with a bad line near its start (a banner, a torn line from a crash) is read at the
    /// first look, with no "rewritten" notice: it was taken for a rewrite in place under way, read a second
    /// late and announced as rewritten.
    @Test func aFinishedLogWithAnEarlyBadLineIsReadAtOnceAndNotCalledRewritten() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let path = root.appendingPathComponent("old.jsonl")
        try write("starting training\n{\"step\": 1, \"kl\": 0.1}\n{\"step\": 2, \"kl\": 0.2}\n", to: path)
        try setModificationTime(of: path, secondsAgo: 60)
        let following = Following([path.path])
        #expect(following.poll(after: 0.01) == [1, 2])
        following.poll()
        #expect(following.steps("old") == [1, 2])
        #expect(!following.notices.contains { $0.kind == .truncated }, "\(following.notices)")
    }

    /// A file time a second old is no proof of stillness (file times may count whole seconds, a file
    /// server's clock may lag): such a file is still waited on before a bad line is believed.
    @Test func aLogWrittenASecondAgoIsNotYetTakenAsStill() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let path = root.appendingPathComponent("recent.jsonl")
        try write("starting training\n{\"step\": 1, \"kl\": 0.1}\n", to: path)
        try setModificationTime(of: path, secondsAgo: 1)
        let following = Following([path.path])
        #expect(following.poll(after: 0.01).isEmpty)
        #expect(following.poll(after: 2) == [1])
    }

    private func setModificationTime(of path: URL, secondsAgo: Int) throws {
        let then = timespec(tv_sec: time(nil) - secondsAgo, tv_nsec: 0)
        var times = [then, then]
        #expect(utimensat(AT_FDCWD, path.path, &times, 0) == 0)
    }

    /// The same log while it is fresh (written this instant): it may be a rewrite under way, so it is read
    /// once it has settled; still no "rewritten" notice, since none was seen.
    @Test func aFreshLogWithAnEarlyBadLineIsNotCalledRewritten() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let path = root.appendingPathComponent("new.jsonl")
        try write("starting training\n{\"step\": 1, \"kl\": 0.1}\n", to: path)
        let following = Following([path.path])
        following.poll(after: 0.01)
        following.poll(after: 2)
        #expect(following.steps("new") == [1])
        #expect(!following.notices.contains { $0.kind == .truncated }, "\(following.notices)")
    }

    /// A rewrite in place seen under way, whose first read from the start is taken back (the writer was at
    /// it again): once read, it is still said to be rewritten (the take-back had cleared the notice).
    @Test func aRewriteWhoseFirstReadIsTakenBackIsStillAnnounced() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let path = root.appendingPathComponent("inplace.jsonl")
        let line = { (step: Int, kl: String) in "{\"step\": \(step), \"kl\": \(kl)}\n" }
        try write((1...3).map { line($0, "0.1") }.joined(), to: path)
        let following = Following([path.path])
        #expect(following.poll(after: 0.01) == [1, 2, 3])
        let handle = try FileHandle(forWritingTo: path)
        // Written again from byte 0, past the old end: seen under way.
        try handle.write(contentsOf: Data((1...4).map { line($0, "0.5") }.joined().utf8))
        #expect(following.poll(after: 0.01).isEmpty)
        // It grows on, with a torn row: the read from the start is taken back.
        try handle.write(contentsOf: Data("{\"step\": 5, \"k\n".utf8))
        #expect(following.poll(after: 0.01).isEmpty)
        try handle.close()
        // Still for a second: read, and said.
        #expect(following.poll(after: 2) == [1, 2, 3, 4])
        #expect(
            following.notices.contains { $0.kind == .truncated && $0.message.hasPrefix("rewritten") },
            "\(following.notices)")
    }

    /// logrotate's `create`: the log is renamed, an empty file made at its path, and the writer goes on
    /// appending to the renamed file until it is told to reopen. Those lines are read, then the new file's.
    @Test func afterLogrotateCreatesAnEmptyFileTheOldOneIsReadOn() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let path = root.appendingPathComponent("app.jsonl").path
        let writer = try Appender(path)
        writer.append(steps: 0..<3)
        let following = Following([path])
        #expect(following.poll() == [0, 1, 2])
        #expect(rename(path, path + ".1") == 0)
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(following.poll().isEmpty)  // kltop has seen the new file
        writer.append(steps: 3..<6)  // still the renamed file
        #expect(following.poll() == [3, 4, 5])
        let reopened = try Appender(path)
        reopened.append(steps: 6..<8)
        #expect(following.poll() == [6, 7])
        #expect(following.steps("app") == Array(0..<8))
    }

    /// Truncated and written again to exactly the old length between two looks: the modification time
    /// tells, and the new content is read once the file has settled.
    @Test func aRewriteToTheSameSizeIsNoticed() throws {
        let root = try TemporaryDirectory.make("kltop-byname")
        let path = root.appendingPathComponent("same.jsonl")
        try write("{\"step\": 1, \"kl\": 0.1}\n{\"step\": 2, \"kl\": 0.2}\n", to: path)
        let following = Following([path.path])
        #expect(following.poll() == [1, 2])
        usleep(20_000)  // a later modification time, even where it is kept to the hundredth of a second
        try write("{\"step\": 3, \"kl\": 0.3}\n{\"step\": 4, \"kl\": 0.4}\n", to: path)
        // Looked into once the file has been still for a second (a rewrite in place may be half done).
        #expect(following.poll(after: 0.5) == [])
        #expect(following.poll(after: 1) == [3, 4])
    }

    /// A read that fails (here: EIO, as from a failing disk or a lost mount) is said, not taken for the end.
    @Test func aFailedReadIsSaid() throws {
        let path = "/proc/self/mem"  // a regular file whose read at offset 0 fails with EIO
        guard FileManager.default.isReadableFile(atPath: path) else { return }
        let following = Following([path])
        following.poll()
        let failures = following.notices.filter { $0.kind == .cannotRead }
        #expect(failures.count == 1)
        #expect(failures.first?.message.hasPrefix("cannot be read: ") == true)
    }
}

extension PathSpec {
    fileprivate var isFile: Bool {
        if case .file = self { return true }
        return false
    }
}

/// A writer holding its log open for appending, as a training process does.
private final class Appender {
    private let descriptor: Int32

    init(_ path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    deinit { close(descriptor) }

    func append(steps: Range<Int>) {
        let text = steps.map { "{\"step\": \($0), \"kl\": 0.01}\n" }.joined()
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
    }
}
