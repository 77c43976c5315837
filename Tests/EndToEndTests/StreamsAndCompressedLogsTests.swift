import Foundation
import TestSupport
import Testing

/// What kltop reads besides plain files, on the built binary: pipes with late and slow writers, FIFOs,
/// standard input in pieces, compressed logs of every format, a log with its rotations.
@Suite(.serialized) struct StreamsAndCompressedLogsTests {
    private static func jsonl(_ steps: some Sequence<Int>) -> String {
        steps.map { "{\"step\": \($0), \"kl\": 0.0\($0 % 9 + 1)}\n" }.joined()
    }

    /// `run` and `step` of each line `export` printed.
    private static func exported(_ output: String) -> [(run: String, step: Int)] {
        output.split(separator: "\n").compactMap { line in
            guard let data = line.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let run = object["run"] as? String, let step = object["step"] as? Int
            else { return nil }
            return (run, step)
        }
    }

    /// Runs a bash command line in `directory` with `$KLTOP` set to the built binary.
    private static func bash(_ script: String, in directory: URL) throws -> Kltop.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(["KLTOP": Kltop.executable.path]) {
            $1
        }
        let output = directory.appendingPathComponent(".out")
        let errors = directory.appendingPathComponent(".err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Kltop.Result(
            status: process.terminationStatus,
            standardOutput: try String(contentsOf: output, encoding: .utf8),
            standardError: try String(contentsOf: errors, encoding: .utf8))
    }

    @Test func processSubstitutionWithAWriterThatStartsLateAndWritesSlowly() throws {
        let directory = try TemporaryDirectory.make("kltop-procsub")
        try Self.jsonl(0..<40).write(
            to: directory.appendingPathComponent("a.jsonl"), atomically: true, encoding: .utf8)
        // bash passes the substitution's pipe as its path (`/dev/fd/63`); the writer is silent for 1.5 s.
        let script = """
            exec "$KLTOP" check <(sleep 1.5; head -n 20 a.jsonl; sleep 0.5; tail -n 20 a.jsonl)
            """
        let checked = try Self.bash(script, in: directory)
        #expect(checked.status == 0, "\(checked.standardError)")
        #expect(checked.standardOutput.hasPrefix("pipe: 40 KL samples"), "\(checked.standardOutput)")

        let exported = try Self.bash(
            #"exec "$KLTOP" export --name remote <(sleep 0.7; cat a.jsonl) <(sleep 0.2; head -n 5 a.jsonl)"#,
            in: directory)
        #expect(exported.status == 0, "\(exported.standardError)")
        let lines = Self.exported(exported.standardOutput)
        #expect(lines.filter { $0.run == "remote" }.map(\.step) == Array(0..<40))
        #expect(lines.filter { $0.run == "pipe2" }.map(\.step) == Array(0..<5))
    }

    @Test func aFIFOOpenedLateIsWaitedForThenReadToItsEnd() throws {
        let directory = try TemporaryDirectory.make("kltop-fifo")
        let fifo = directory.appendingPathComponent("ppo.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let kltop = try LiveProcess(kltop: ["export", fifo])
        Thread.sleep(forTimeInterval: 0.8)
        #expect(kltop.isRunning, "a FIFO without a writer yet is not an empty log")
        let writer = try #require(FileHandle(forWritingAtPath: fifo))
        for piece in [0..<10, 10..<11, 11..<30] {
            writer.write(Data(Self.jsonl(piece).utf8))
            Thread.sleep(forTimeInterval: 0.2)
        }
        writer.write(Data(#"{"step": 30, "kl": 0.5}"#.utf8))  // no newline: the last record
        try writer.close()
        let status = kltop.waitForExit(timeout: 20)
        #expect(status == 0, "\(kltop.standardError)")
        let lines = Self.exported(kltop.outputLines.joined(separator: "\n"))
        #expect(lines.map(\.run) == Array(repeating: "ppo", count: 31))
        #expect(lines.map(\.step) == Array(0...30))
    }

    @Test func standardInputWrittenInPieces() throws {
        let kltop = try LiveProcess(kltop: ["export", "--name", "node3", "-"])
        let text = Array(Self.jsonl(0..<50).utf8)
        var offset = 0
        for size in [1, 7, 100, 3, 500, 2000] where offset < text.count {
            let end = min(text.count, offset + size)
            kltop.inputPipe.fileHandleForWriting.write(Data(text[offset..<end]))
            offset = end
            Thread.sleep(forTimeInterval: 0.1)
        }
        kltop.inputPipe.fileHandleForWriting.write(Data(text[offset...]))
        try kltop.inputPipe.fileHandleForWriting.close()
        #expect(kltop.waitForExit(timeout: 20) == 0, "\(kltop.standardError)")
        let lines = Self.exported(kltop.outputLines.joined(separator: "\n"))
        #expect(lines.map(\.step) == Array(0..<50))
        #expect(Set(lines.map(\.run)) == ["node3"])
    }

    /// Every format kltop reads as bytes, gzipped and zstd-compressed (named `.gz`/`.zst`, and with no such
    /// suffix: recognised by content), exports what the plain log exports.
    @Test(arguments: [
        "conformance/bursty_sigma3.jsonl", "formats/sb3/progress.csv", "formats/console/verl_ray_nocolor.log",
        "formats/console/hf_trainer_printer_v5.24.0.log", "formats/trl/grpo/checkpoint-60/trainer_state.json",
        "formats/tensorboard/single_run/events.out.tfevents.1700000000.fixturehost",
    ])
    func compressedLogsOfEveryFormatExportAsThePlainOnes(_ relative: String) throws {
        let plain = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(relative)))
        let name = String(relative.split(separator: "/").last!)
        let expected = try Kltop.run(["export", Fixtures.path(relative)])
        let expectedSteps = Self.exported(expected.standardOutput).map(\.step)
        #expect(expected.status == 0 && !expectedSteps.isEmpty)
        let valuesOf = { (output: String) in
            output.split(separator: "\n").map {
                $0.split(separator: ",", maxSplits: 1).last.map(String.init) ?? ""
            }
        }
        for (compressed, suffix) in [
            (Compressing.gzip(Array(plain)), ".gz"), (Compressing.zstd(Array(plain)), ".zst"),
            (Compressing.gzip(Array(plain)), ""),
        ] {
            let directory = try TemporaryDirectory.make("kltop-compressed")
            let path = directory.appendingPathComponent(name + suffix)
            try Data(compressed).write(to: path)
            let result = try Kltop.run(["export", path.path])
            #expect(result.status == 0, "\(name)\(suffix): \(result.standardError)")
            #expect(Self.exported(result.standardOutput).map(\.step) == expectedSteps, "\(name)\(suffix)")
            #expect(valuesOf(result.standardOutput) == valuesOf(expected.standardOutput), "\(name)\(suffix)")
        }
    }

    @Test func aCompressedLogCutShortIsReadAsFarAsItGoesAndReported() throws {
        let directory = try TemporaryDirectory.make("kltop-cut")
        var text = ""
        for step in 0..<20_000 { text += "{\"step\": \(step), \"kl\": \(Double(step % 997) / 9973)}\n" }
        let compressed = Compressing.gzip(text)
        let path = directory.appendingPathComponent("run.jsonl.gz")
        try Data(compressed.prefix(compressed.count / 2)).write(to: path)
        let result = try Kltop.run(["check", path.path])
        #expect(result.status == 0)
        #expect(result.standardError.contains("the gzip data ends early"), "\(result.standardError)")
        #expect(result.standardError.contains("(the file is cut short): read as far as it goes"))
    }

    /// A folder with a log and three rotations (one plain, two gzipped): one run, every step once and in
    /// order, and the live log followed on.
    @Test func aLogAndThreeRotationsAreOneRunFollowedOn() throws {
        let root = try TemporaryDirectory.make("kltop-rotated")
        let folder = root.appendingPathComponent("grpo_seed1")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(Compressing.gzip(Self.jsonl(0..<30))).write(
            to: folder.appendingPathComponent("train.log.3.gz"))
        try Data(Compressing.gzip(Self.jsonl(30..<60))).write(
            to: folder.appendingPathComponent("train.log.2.gz"))
        try Self.jsonl(60..<90).write(
            to: folder.appendingPathComponent("train.log.1"), atomically: true, encoding: .utf8)
        let live = folder.appendingPathComponent("train.log")
        try Self.jsonl(88..<100).write(to: live, atomically: true, encoding: .utf8)

        let checked = try Kltop.run(["check", root.path])
        #expect(checked.standardOutput.hasPrefix("grpo_seed1: 100 KL samples"), "\(checked.standardOutput)")
        #expect(
            checked.standardError.contains("skipped 2 records repeating steps"), "\(checked.standardError)")

        let kltop = try LiveProcess(kltop: ["export", "--follow", root.path])
        defer { kltop.interrupt() }
        #expect(kltop.waitUntil(timeout: 20) { $0.count >= 100 })
        let handle = try FileHandle(forWritingTo: live)
        handle.seekToEndOfFile()
        handle.write(Data(Self.jsonl(100..<110).utf8))
        try handle.close()
        #expect(kltop.waitUntil(timeout: 20) { $0.count >= 110 })
        Thread.sleep(forTimeInterval: 0.3)
        let lines = Self.exported(kltop.outputLines.joined(separator: "\n"))
        #expect(lines.map(\.step) == Array(0..<110))
        #expect(Set(lines.map(\.run)) == ["grpo_seed1"])
    }

    @Test func nameNeedsAStreamToName() throws {
        let directory = try TemporaryDirectory.make("kltop-name")
        try Self.jsonl(0..<3).write(
            to: directory.appendingPathComponent("a.jsonl"), atomically: true, encoding: .utf8)
        let result = try Kltop.run(["check", "--name", "x", "a.jsonl"], in: directory)
        #expect(result.status == 3, "check's usage errors are its UNKNOWN status")
        #expect(result.standardError.contains("--name names a run read from standard input or a pipe"))
    }
}
