import Foundation
import TestSupport
import Testing

/// A writer appends steps with unique numbers to several logs while rotating, replacing atomically,
/// deleting and re-creating, truncating and splitting its writes at random byte boundaries;
/// `kltop export --follow` must report every step exactly once and in order.
///
/// Two things are lost by their nature, and the writer avoids them; everything else is tested exactly
/// (rotation by rename, also with logrotate's `create` while the writer still appends to the renamed file;
/// atomic replacement; delete and re-create; truncation; writes cut at random bytes; logs named as a folder
/// or one by one relative to the current directory):
/// - copytruncate: what the writer appended between kltop's last read and the truncation exists only in the
///   copy. Truncation is only done once kltop has shown everything written so far.
/// - a file that is rotated away or deleted before kltop has looked at it at all is never seen. Before a
///   file is rotated, replaced or re-created, the writer waits until kltop has shown the first line of its
///   current incarnation, then writes a few more lines that kltop must still pick up after the switch.
@Suite(.serialized) struct FollowTortureTests {
    @Test func everyStepExactlyOnceInOrderWithInotify() throws {
        try torture(extraArguments: [], seed: 1)
    }

    @Test func everyStepExactlyOnceInOrderWhenPolling() throws {
        try torture(extraArguments: ["--poll", "0.1"], seed: 2)
    }

    /// The logs named one by one, relative to the current directory, as people type them
    /// (`kltop export --follow alpha.jsonl ...`): inotify reports them under the same names.
    @Test func everyStepExactlyOnceInOrderWithRelativePaths() throws {
        try torture(extraArguments: [], seed: 3, namedRelatively: true)
    }

    func torture(extraArguments: [String], seed: UInt64, namedRelatively: Bool = false) throws {
        let directory = try TemporaryDirectory.make("kltop-torture")
        let names = ["alpha", "bravo", "charlie", "delta", "echo"]
        // "echo" does not exist when kltop starts: it is waited for, and found in the directory.
        var writer = TortureWriter(directory: directory, names: Array(names.dropLast()), seed: seed)
        writer.writeLines(40)
        let paths = namedRelatively ? names.map { $0 + ".jsonl" } : [directory.path]
        let kltop = try LiveProcess(
            kltop: ["export", "--follow"] + extraArguments + paths, in: namedRelatively ? directory : nil)
        defer { kltop.interrupt() }
        writer.hasBeenShown = { name, step in
            kltop.waitUntil(timeout: 20) { lines in Self.steps(in: lines, run: name).contains(step) }
        }
        writer.add(name: names.last!)
        for round in 0..<30 {
            writer.writeLines(60)
            switch round % 6 {
            case 0: writer.rotate(writer.randomName())
            case 1: writer.replaceAtomically(writer.randomName())
            case 2: writer.deleteAndRecreate(writer.randomName())
            case 3:
                let name = writer.randomName()
                let expected = writer.written[name]!.count
                #expect(
                    kltop.waitUntil(timeout: 20) { lines in Self.steps(in: lines, run: name).count >= expected
                    },
                    "kltop did not catch up with \(name) before its truncation")
                writer.truncate(name)
            case 4: writer.rotateWhileStillWriting(writer.randomName())
            default: break
            }
        }
        writer.writeLines(50)
        writer.writeUnterminatedLine(names[0])  // taken after the quiet period
        let total = writer.written.values.reduce(0) { $0 + $1.count }
        let caughtUp = kltop.waitUntil(timeout: 30) { $0.count >= total }
        kltop.interrupt()
        if !caughtUp { print(kltop.standardError) }
        #expect(
            caughtUp,
            "kltop reported \(kltop.outputLines.count) of \(total) steps; stderr: \(kltop.standardError)")
        for name in names {
            let reported = Self.steps(in: kltop.outputLines, run: name)
            let wrote = writer.written[name]!
            let missing = Set(wrote).subtracting(reported).sorted()
            let duplicated = reported.count - Set(reported).count
            #expect(
                reported == wrote,
                "\(name): reported \(reported.count), wrote \(wrote.count); missing \(missing), duplicated \(duplicated)"
            )
        }
        #expect(kltop.outputLines.count == total)
    }

    static func steps(in lines: [String], run: String) -> [Int] {
        lines.compactMap { line in
            guard let data = line.data(using: .utf8),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                json["run"] as? String == run, let step = json["step"] as? Int
            else { return nil }
            return step
        }
    }
}

/// Writes JSON Lines to several files the way misbehaving real writers do.
struct TortureWriter {
    let directory: URL
    var names: [String]
    var written: [String: [Int]] = [:]
    private var descriptors: [String: Int32] = [:]
    private var random: SeededGenerator
    private var nextStep = 0
    /// The first step written to each file's current incarnation (since it was last rotated, replaced or
    /// re-created).
    private var firstStepOfIncarnation: [String: Int] = [:]
    /// Waits until kltop has shown `step` of the run `name`; returns whether it did.
    var hasBeenShown: (String, Int) -> Bool = { _, _ in true }

    init(directory: URL, names: [String], seed: UInt64) {
        self.directory = directory
        self.names = names
        random = SeededGenerator(seed: seed)
        for name in names { add(name: name) }
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name + ".jsonl").path }

    mutating func add(name: String) {
        if !names.contains(name) { names.append(name) }
        written[name] = written[name] ?? []
        descriptors[name] = open(path(name), O_WRONLY | O_CREAT | O_APPEND, 0o644)
    }

    mutating func randomName() -> String { names[Int(random.next() % UInt64(names.count))] }

    /// Writes `count` lines to random files, each split in up to three writes, with short pauses.
    mutating func writeLines(_ count: Int) {
        for index in 0..<count {
            writeLine(to: randomName())
            if index % 10 == 0 { usleep(500) }
        }
    }

    mutating func writeLine(to name: String) {
        if firstStepOfIncarnation[name] == nil { firstStepOfIncarnation[name] = nextStep }
        let line = Array(
            "{\"step\": \(nextStep), \"kl\": \(Double(nextStep % 97) * 0.001), \"note\": \"x\"}\n".utf8)
        written[name]!.append(nextStep)
        nextStep += 1
        var cuts = [0, line.count]
        for _ in 0..<Int(random.next() % 3) { cuts.append(Int(random.next() % UInt64(line.count))) }
        cuts.sort()
        for (start, end) in zip(cuts, cuts.dropFirst()) where start < end {
            line[start..<end].withUnsafeBytes { _ = write(descriptors[name]!, $0.baseAddress, $0.count) }
            if random.next() % 4 == 0 { usleep(UInt32(random.next() % 1500)) }
        }
    }

    /// A final record without its newline.
    mutating func writeUnterminatedLine(_ name: String) {
        let line = Array("{\"step\": \(nextStep), \"kl\": 0.5}".utf8)
        written[name]!.append(nextStep)
        nextStep += 1
        line.withUnsafeBytes { _ = write(descriptors[name]!, $0.baseAddress, $0.count) }
    }

    /// Before the file stops being at its path: kltop must have looked at this incarnation (else it is lost
    /// by nature), and the last lines, written just now, must still be picked up after the switch.
    private mutating func letSettle(_ name: String) {
        if let first = firstStepOfIncarnation[name] {
            #expect(hasBeenShown(name, first), "kltop never showed \(name)'s step \(first)")
        }
        for _ in 0..<3 { writeLine(to: name) }
        firstStepOfIncarnation[name] = nil
    }

    /// logrotate's default: rename the file away, create a new one at the path.
    mutating func rotate(_ name: String) {
        letSettle(name)
        close(descriptors[name]!)
        rename(path(name), path(name) + ".1")
        descriptors[name] = open(path(name), O_WRONLY | O_CREAT | O_APPEND, 0o644)
    }

    /// logrotate's `create` without copytruncate: the log is renamed and an empty file made at its path by
    /// logrotate; the writer goes on appending to the renamed file until it is told to reopen (its HUP).
    mutating func rotateWhileStillWriting(_ name: String) {
        letSettle(name)
        rename(path(name), path(name) + ".1")
        close(open(path(name), O_WRONLY | O_CREAT | O_APPEND, 0o644))
        usleep(50_000)  // kltop sees the new, empty file while the writer is still on the old one
        for _ in 0..<3 { writeLine(to: name) }
        firstStepOfIncarnation[name] = nil  // those went to the old file; the new one starts with the next
        close(descriptors[name]!)
        descriptors[name] = open(path(name), O_WRONLY | O_CREAT | O_APPEND, 0o644)
    }

    /// Write a temporary file with the whole content plus a new line, rename it over the log.
    mutating func replaceAtomically(_ name: String) {
        letSettle(name)
        close(descriptors[name]!)
        var content = (try? Data(contentsOf: URL(fileURLWithPath: path(name)))) ?? Data()
        content.append(contentsOf: Array("{\"step\": \(nextStep), \"kl\": 0.01}\n".utf8))
        written[name]!.append(nextStep)
        // The replacement continues the file: its new line is the first of this incarnation kltop reads.
        firstStepOfIncarnation[name] = nextStep
        nextStep += 1
        let temporary = directory.appendingPathComponent(".\(name).tmp").path
        _ = FileManager.default.createFile(atPath: temporary, contents: content)
        rename(temporary, path(name))
        descriptors[name] = open(path(name), O_WRONLY | O_APPEND, 0o644)
    }

    mutating func deleteAndRecreate(_ name: String) {
        letSettle(name)
        close(descriptors[name]!)
        unlink(path(name))
        usleep(20_000)
        descriptors[name] = open(path(name), O_WRONLY | O_CREAT | O_APPEND, 0o644)
    }

    /// copytruncate: the content is copied away and the log truncated in place; the writer goes on appending.
    mutating func truncate(_ name: String) {
        firstStepOfIncarnation[name] = nil
        try? FileManager.default.copyItem(atPath: path(name), toPath: path(name) + ".\(nextStep)")
        ftruncate(descriptors[name]!, 0)
    }
}
