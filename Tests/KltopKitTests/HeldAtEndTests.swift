import Foundation
import KLDetector
import KltopKit
import LogFollowing
import RunLogs
import TestSupport
import Testing

/// `check` and `export` read a log to its end; a live W&B or SwanLab file (or an event file, or JSON Lines)
/// often ends inside its last record, which its writer has not written yet. That record is said as still
/// being written, not skipped as bad, and changes nothing of check's status; after the run's end (W&B's
/// exit record) a cut record is damage, and is a bad record.
@Suite struct HeldAtEndTests {
    struct Reading {
        var status: Int32
        var output: [String]
        var diagnostics: [String]
    }

    static func check(_ paths: [String]) -> Reading {
        let request = CheckRequest(
            paths: paths, detector: DetectorSettings(rollingWindow: 8, warmupSteps: 5), format: .text)
        nonisolated(unsafe) var lines: [String] = []
        nonisolated(unsafe) var diagnostics: [String] = []
        let status = Checker.run(
            request, to: CheckOutput(output: { lines.append($0) }, diagnostics: { diagnostics.append($0) }))
        return Reading(status: status.rawValue, output: lines, diagnostics: diagnostics)
    }

    static func export(_ paths: [String], withNotes: Bool = false) -> Reading {
        var request = ExportRequest(paths: paths)
        request.withNotes = withNotes
        nonisolated(unsafe) var lines: [String] = []
        nonisolated(unsafe) var diagnostics: [String] = []
        let status = Exporter.run(
            request, to: CheckOutput(output: { lines.append($0) }, diagnostics: { diagnostics.append($0) }))
        return Reading(status: status, output: lines, diagnostics: diagnostics)
    }

    static func write(_ bytes: [UInt8], as name: String) throws -> String {
        let url = try TemporaryDirectory.make("kltop-held").appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// What the reader holds at the end of `bytes`, as check should say it.
    static func heldNote<Reader: SampleReader>(_ reader: Reader, _ bytes: [UInt8], run: String) -> String {
        var reader = reader
        bytes.withUnsafeBytes { reader.consume($0) { _ in } }
        reader.finish { _ in }
        let held = reader.statistics.heldAtEnd
        return "kltop: \(run): its last record is incomplete (\(held) bytes): still being written? Left out; "
            + "--follow reads it once the rest is written"
    }

    /// A W&B run file cut in the middle of a record, as a live one is: check and export say the held
    /// record, report no bad record, and check's status and summary are those of the records before it.
    @Test func aLiveWandbFileCutInsideARecord() throws {
        let whole = WandbFixtures.bytes(id: "grpo01")
        let cut = Array(whole[..<(whole.count / 2)])
        let path = try Self.write(cut, as: "run-grpo01.wandb")
        let note = Self.heldNote(WandbTransactionLogReader(), cut, run: "grpo-beta-0.04")
        #expect(!note.contains("(0 bytes)"))

        let checked = Self.check([path])
        #expect(checked.diagnostics.contains(note), "\(checked.diagnostics)")
        #expect(!checked.diagnostics.contains { $0.contains("bad record") }, "\(checked.diagnostics)")
        #expect(checked.output.count == 1)
        #expect(checked.output.first?.contains("last record incomplete (still being written?)") == true)
        #expect(checked.output.first?.contains("bad") == false, "\(checked.output)")
        // The status is the one the whole records before the cut give.
        var reader = WandbTransactionLogReader()
        cut.withUnsafeBytes { reader.consume($0) { _ in } }
        let boundary = try Self.write(Array(cut.dropLast(reader.heldByteCount)), as: "run-grpo01.wandb")
        let before = Self.check([boundary])
        #expect(checked.status == before.status)
        #expect(before.diagnostics.allSatisfy { !$0.contains("incomplete") }, "\(before.diagnostics)")

        let exported = Self.export([path])
        #expect(exported.status == 0)
        #expect(exported.diagnostics == [note], "\(exported.diagnostics)")
        let all = Self.export([WandbFixtures.path(id: "grpo01")])
        #expect(!exported.output.isEmpty && all.output.starts(with: exported.output))
    }

    /// A finished run (its exit record read) with a cut record after it: damage, a bad record.
    @Test func aCutRecordAfterTheExitRecordIsBad() throws {
        let damaged = WandbLogEncoding.withACutRecordAfterItsEnd(WandbFixtures.bytes(id: "grpo01"))
        let path = try Self.write(damaged, as: "run-grpo01.wandb")
        for reading in [Self.check([path]), Self.export([path])] {
            #expect(
                reading.diagnostics.contains {
                    $0.hasPrefix("kltop: grpo-beta-0.04: skipped 1 bad record (record ")
                        && $0.hasSuffix(": record cut short: the file ends 47 bytes into it)")
                }, "\(reading.diagnostics)")
            #expect(!reading.diagnostics.contains { $0.contains("incomplete") })
        }
    }

    /// SwanLab's live run (its file as it was on disk while swanlab wrote it) is held, not bad.
    @Test func theLiveSwanlabRunIsHeldNotBad() {
        let path = SwanlabFixtures.path(name: "live-run")
        let note = Self.heldNote(
            SwanlabRunFileReader(), SwanlabFixtures.bytes(name: "live-run"), run: "live-run")
        for reading in [Self.check([path]), Self.export([path])] {
            #expect(reading.diagnostics.contains(note), "\(reading.diagnostics)")
            #expect(!reading.diagnostics.contains { $0.contains("bad record") }, "\(reading.diagnostics)")
        }
        #expect(Self.export([path]).status == 0)
    }

    /// An event file cut in the middle of its last event: the same.
    @Test func aTensorBoardFileCutInsideAnEvent() throws {
        let fixture = "formats/tensorboard/truncated_tail/events.out.tfevents.1700000000.fixturehost"
        let path = Fixtures.path(fixture)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let note = Self.heldNote(TensorBoardEventReader(), bytes, run: "truncated_tail")
        for reading in [Self.check([path]), Self.export([path])] {
            #expect(reading.diagnostics.contains(note), "\(reading.diagnostics)")
            #expect(!reading.diagnostics.contains { $0.contains("bad record") }, "\(reading.diagnostics)")
        }
    }

    /// `export --with-notes` carries the held bytes to the other side.
    @Test func theRemoteStreamCarriesTheHeldBytes() throws {
        let whole = WandbFixtures.bytes(id: "grpo01")
        let cut = Array(whole[..<(whole.count / 2)])
        var reader = WandbTransactionLogReader()
        cut.withUnsafeBytes { reader.consume($0) { _ in } }
        let path = try Self.write(cut, as: "run-grpo01.wandb")
        let exported = Self.export([path], withNotes: true)
        let held = exported.output.compactMap { line -> Int? in
            guard case .read(_, _, let statistics)? = RemoteStream.decode(Substring(line)) else { return nil }
            return statistics.heldAtEnd
        }
        #expect(held.last == reader.heldByteCount, "\(exported.output.suffix(3))")
    }

    /// A run file in a folder with no whole record yet, its first being written: not a stray file's note,
    /// and no status of its own (as a stray file).
    @Test func aRunFileWhoseFirstRecordIsBeingWritten() throws {
        let folder = try TemporaryDirectory.make("kltop-held-first")
        let run = folder.appendingPathComponent("wandb/offline-run-20261207_000000-abc")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let whole = WandbFixtures.bytes(id: "grpo01")
        try Data(whole[..<40]).write(to: run.appendingPathComponent("run-abc.wandb"))
        let checked = Self.check([folder.path])
        #expect(
            checked.diagnostics.contains {
                $0.hasSuffix("no whole record yet (its first is still being written?); left out")
            }, "\(checked.diagnostics)")
        #expect(!checked.diagnostics.contains { $0.contains("not a run log") })
    }
}
