import Foundation
import TestSupport
import Testing

@testable import RunLogs

@Suite struct TensorBoardEventReaderTests {
    /// Reads a run's event files one after another, with `finish` between them.
    static func readRun(_ files: [String], chunking: Chunking = .whole) throws -> (
        samples: [MetricSample], reader: TensorBoardEventReader
    ) {
        var reader = TensorBoardEventReader()
        var samples: [MetricSample] = []
        for file in files {
            feed(&reader, try formatFixture(file), chunking, into: &samples)
            reader.finish { samples.append($0) }
        }
        return (samples, reader)
    }

    /// Samples of a float32 series: the expected steps, each value the float32 nearest the series' value.
    static func expectSeries(
        _ samples: [MetricSample], steps: ClosedRange<Int>, spike: Int?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(samples.map(\.step) == steps.map(Int64.init), sourceLocation: sourceLocation)
        for sample in samples {
            let expected = klAt(Int(sample.step), spike: spike)
            #expect(
                Float(sample.value) == Float(expected), "step \(sample.step)", sourceLocation: sourceLocation)
            #expect(abs(sample.value - expected) < 1e-6, sourceLocation: sourceLocation)
        }
    }

    nonisolated(unsafe) static let runs: [(file: String, expectedKey: String, entry: [String: Any])] = {
        var runs: [(String, String, [String: Any])] = []
        let single = FormatExpectations.entry("tensorboard/single_run")
        runs.append(
            ("tensorboard/single_run/events.out.tfevents.1700000000.fixturehost", "single_run", single))
        for group in ["tensorboard/multi_run", "tensorboard/tensor_scalars"] {
            let entries = FormatExpectations.entry(group)["runs"] as? [String: [String: Any]] ?? [:]
            for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
                for file in entry["files"] as? [String] ?? [] {
                    runs.append(("\(group)/\(name)/\(file)", name, entry))
                }
            }
        }
        return runs
    }()

    @Test func thereAreFixtureRuns() {
        #expect(Self.runs.count == 5)
    }

    @Test(arguments: 0..<5)
    func everyFixtureRunReadsAsExpected(_ index: Int) throws {
        let run = Self.runs[index]
        let (samples, reader) = try Self.readRun([run.file])
        #expect(reader.metricKey == run.entry["kl_tag"] as? String)
        Self.expectSeries(
            samples, steps: try #require(FormatExpectations.steps(run.entry)),
            spike: FormatExpectations.spike(run.entry))
        #expect(reader.statistics.badLines == 0)
        #expect(reader.statistics.samples == samples.count)
        if let maximum = run.entry["max_kl"] as? Double {
            #expect(Float(samples.map(\.value).max() ?? 0) == Float(maximum))
        }
    }

    @Test func aSplitRunIsReadFileAfterFileWithFinishBetween() throws {
        let entry = FormatExpectations.entry("tensorboard/split_run")
        let files = (entry["files"] as? [String] ?? []).map { "tensorboard/split_run/" + $0 }
        #expect(files.count == 2)
        let (samples, reader) = try Self.readRun(files)
        Self.expectSeries(
            samples, steps: try #require(FormatExpectations.steps(entry)),
            spike: FormatExpectations.spike(entry))
        #expect(reader.statistics.badLines == 0)
    }

    /// Read to its end, the file's cut last record is said as still being written (the writer's buffer is
    /// flushed when full, so a live file ends anywhere), not counted; it is a bad record once another file
    /// of the run follows.
    @Test func aTruncatedTailIsHeldThenSaidAsStillBeingWritten() throws {
        let bytes = try formatFixture("tensorboard/truncated_tail/events.out.tfevents.1700000000.fixturehost")
        let held = read(TensorBoardEventReader(), bytes, finish: false)
        #expect(held.samples.map(\.step) == (0...59).map(Int64.init))
        #expect(held.reader.statistics.records == 120)
        #expect(held.reader.statistics.badLines == 0)
        #expect(held.reader.heldByteCount > 0)
        var reader = held.reader
        reader.finish { _ in Issue.record("no sample from a truncated record") }
        #expect(reader.statistics.badLines == 0)
        #expect(reader.statistics.heldAtEnd == held.reader.heldByteCount)
        Self.small.withUnsafeBytes { reader.consume($0) { _ in } }
        #expect(reader.statistics.heldAtEnd == 0)
        #expect(reader.statistics.badLines == 1)
        #expect(reader.statistics.firstBadLines.first?.reason.hasPrefix("truncated record") == true)
        #expect(reader.statistics.firstBadLines.first?.lineNumber == 121)
    }

    @Test func theRestOfAHeldRecordCompletesIt() throws {
        let first = try formatFixture("tensorboard/split_run/events.out.tfevents.1700000000.fixturehost")
        let cut = try formatFixture("tensorboard/truncated_tail/events.out.tfevents.1700000000.fixturehost")
        #expect(Array(first.prefix(cut.count)) == cut)
        var (samples, reader) = read(TensorBoardEventReader(), cut, finish: false)
        Array(first[cut.count...]).withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        #expect(
            reader.heldByteCount == 0 && reader.statistics.records == 121 && reader.statistics.badLines == 0)
    }

    /// Small synthetic file: version record + 6 kl scalars, steps 0...5.
    static let small: [UInt8] = TFRecordEncoding.file(
        scalars: (0..<6).map { (Int64($0), "kl", Float($0) / 10) })

    /// Where each record of `small` starts.
    static let recordStarts: [Int] = {
        var starts: [Int] = []
        var offset = 0
        while offset + 12 <= small.count {
            starts.append(offset)
            let length = small[offset..<(offset + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
            offset += 16 + length
        }
        return starts
    }()

    @Test func aBadDataCRCSkipsThatRecordOnly() {
        var bytes = Self.small
        let third = Self.recordStarts[3]  // the scalar at step 2
        bytes[third + 12 + 3] ^= 0x01
        let (samples, reader) = read(TensorBoardEventReader(), bytes)
        #expect(samples.map(\.step) == [0, 1, 3, 4, 5])
        #expect(reader.statistics.badLines == 1)
        let bad = reader.statistics.firstBadLines.first
        #expect(bad?.reason.hasPrefix("data CRC mismatch") == true)
        #expect(bad?.byteOffset == third && bad?.lineNumber == 4)
        #expect(bad?.location == "record 4 at byte \(third)")
    }

    @Test func aBadStoredDataCRCIsCaughtToo() {
        var bytes = Self.small
        let end = Self.recordStarts[4]  // the last byte before it is the scalar at step 2's data CRC
        bytes[end - 1] ^= 0x80
        let (samples, reader) = read(TensorBoardEventReader(), bytes)
        #expect(samples.map(\.step) == [0, 1, 3, 4, 5])
        #expect(reader.statistics.badLines == 1)
    }

    @Test(arguments: 0..<8)
    func aFlippedLengthByteResynchronisesAtTheNextRecord(_ byte: Int) {
        var bytes = Self.small
        let third = Self.recordStarts[3]
        bytes[third + byte] ^= 0x40
        for chunking in [Chunking.whole, .fixed(1), .fixed(5), .random(seed: UInt64(byte), maximum: 30)] {
            let (samples, reader) = read(TensorBoardEventReader(), bytes, chunking)
            #expect(samples.map(\.step) == [0, 1, 3, 4, 5], "\(chunking)")
            #expect(reader.statistics.badLines == 1, "\(chunking)")
            #expect(reader.statistics.firstBadLines.first?.reason.hasPrefix("length CRC mismatch") == true)
            #expect(reader.statistics.records == 6)
        }
    }

    @Test func aFlippedLengthCRCByteResynchronisesToo() {
        var bytes = Self.small
        bytes[Self.recordStarts[1] + 9] ^= 0xFF
        let (samples, reader) = read(TensorBoardEventReader(), bytes)
        #expect(samples.map(\.step) == [1, 2, 3, 4, 5])
        #expect(reader.statistics.badLines == 1)
    }

    @Test func truncatedAtEveryByteOfTheLastRecordIsHeldThenSaidOnFinish() {
        let last = Self.recordStarts[6]
        for cut in last..<Self.small.count {
            let bytes = Array(Self.small[..<cut])
            var (samples, reader) = read(TensorBoardEventReader(), bytes, .fixed(7), finish: false)
            #expect(samples.map(\.step) == [0, 1, 2, 3, 4], "cut at \(cut)")
            #expect(reader.statistics.badLines == 0, "cut at \(cut): held, not bad")
            #expect(reader.heldByteCount == cut - last)
            reader.finish { samples.append($0) }
            #expect(reader.statistics.badLines == 0, "cut at \(cut)")
            #expect(reader.statistics.heldAtEnd == cut - last, "cut at \(cut)")
            #expect(samples.count == 5)
        }
    }

    @Test func anyChunkingGivesTheSameSamples() throws {
        let bytes = try formatFixture(
            "tensorboard/tensor_scalars/tensor_content_handbuilt/events.out.tfevents.1700000000.fixturehost.4242.2"
        )
        let whole = read(TensorBoardEventReader(), bytes).samples
        #expect(whole.count == 100)
        for seed in 0..<20 as Range<UInt64> {
            let chunking = Chunking.random(seed: seed, maximum: seed < 10 ? 16 : 700)
            #expect(read(TensorBoardEventReader(), bytes, chunking).samples == whole, "\(chunking)")
        }
        for size in [1, 2, 3, 11, 12, 13, 64] {
            #expect(read(TensorBoardEventReader(), bytes, .fixed(size)).samples == whole, "pieces of \(size)")
        }
    }

    @Test func garbageNeverCrashesAndIsCounted() {
        var generator = SeededGenerator(seed: 7)
        for length in [0, 1, 11, 12, 13, 100, 5000] {
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let (samples, reader) = read(
                TensorBoardEventReader(), garbage, .random(seed: UInt64(length), maximum: 50))
            #expect(samples.isEmpty)
            // Fewer bytes than a header may be a file only begun: held, not bad.
            let statistics = reader.statistics
            #expect(statistics.heldAtEnd == (length < 12 ? length : 0), "\(length) garbage bytes")
            #expect(statistics.badLines == (length < 12 ? 0 : 1), "\(length) garbage bytes: one bad region")
        }
        let garbage = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let (samples, reader) = read(TensorBoardEventReader(), garbage + Self.small, .fixed(9))
        #expect(samples.map(\.step) == [0, 1, 2, 3, 4, 5], "found again after garbage")
        #expect(reader.statistics.badLines == 1)
    }

    @Test func aValidRecordThatIsNotAnEventIsBad() {
        let bytes = TFRecordEncoding.record([0xFF, 0xFF, 0xFF]) + Self.small
        let (samples, reader) = read(TensorBoardEventReader(), bytes)
        #expect(samples.count == 6)
        #expect(reader.statistics.firstBadLines.first?.reason == "not an Event protobuf")
    }

    @Test func anOverlongRecordIsSkippedWithoutHoldingIt() {
        let big = TFRecordEncoding.record(
            TFRecordEncoding.event(
                step: 9, tag: "kl",
                value: TFRecordEncoding.simpleValue(9)
                    + TFRecordEncoding.bytesField(4, Array(repeating: 1, count: 3000))))
        let bytes =
            Self.small + big
            + TFRecordEncoding.record(
                TFRecordEncoding.event(step: 10, tag: "kl", value: TFRecordEncoding.simpleValue(1)))
        var reader = TensorBoardEventReader(maxRecordBytes: 1000)
        var samples: [MetricSample] = []
        feed(&reader, bytes, .fixed(100), into: &samples)
        #expect(samples.map(\.step) == [0, 1, 2, 3, 4, 5, 10])
        #expect(reader.statistics.badLines == 1)
        #expect(reader.heldByteCount == 0)
    }

    @Test func restartDropsAHeldPartialRecord() {
        let cut = Array(Self.small.dropLast(3))
        var (samples, reader) = read(TensorBoardEventReader(), cut, finish: false)
        reader.restart()
        Self.small.withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        #expect(samples.map(\.step) == [0, 1, 2, 3, 4] + [0, 1, 2, 3, 4, 5])
        #expect(reader.statistics.badLines == 0)
    }

    /// The first step's events are held until the tag is chosen; a file read again from its start gives
    /// them again, so the held ones are dropped, not given twice (as SwanLab's reader does).
    @Test func restartWhileTheFirstStepIsHeldGivesItOnce() {
        typealias E = TFRecordEncoding
        let first = E.file(scalars: [(0, "train/kl", 0.5)])
        var (samples, reader) = read(TensorBoardEventReader(), first, finish: false)
        #expect(samples.isEmpty)
        reader.restart()
        let longer = E.file(scalars: [(0, "train/kl", 0.5), (1, "train/kl", 0.25)])
        longer.withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        reader.finish { samples.append($0) }
        #expect(samples == [MetricSample(step: 0, value: 0.5), MetricSample(step: 1, value: 0.25)])
    }

    @Test func tensorValuesOfEveryFloatKind() {
        typealias E = TFRecordEncoding
        func tensorEvent(_ step: Int64, _ fields: [UInt8]) -> [UInt8] {
            E.record(E.event(step: step, tag: "train/kl", value: E.tensor(fields)))
        }
        let scalarShape = E.bytesField(2, [])
        let half: UInt16 = 0x3555  // 0.333251953125
        let bfloat16: UInt16 = 0x3F40  // 0.75
        let events =
            E.record(E.fileVersionEvent())
            + tensorEvent(
                1, E.varintField(1, 1) + scalarShape + E.bytesField(5, E.littleEndian(Float(0.5).bitPattern)))
            + tensorEvent(
                2, E.varintField(1, 2) + scalarShape + E.bytesField(6, E.littleEndian(0.25.bitPattern)))
            + tensorEvent(3, E.varintField(1, 2) + E.bytesField(4, E.littleEndian(0.125.bitPattern)))
            + tensorEvent(4, E.varintField(1, 19) + E.bytesField(13, E.varint(UInt64(half))))
            + tensorEvent(5, E.varintField(1, 14) + E.bytesField(4, E.littleEndian(bfloat16)))
            + tensorEvent(
                6,
                E.varintField(1, 1) + E.bytesField(2, E.bytesField(2, E.varintField(1, 3)))
                    + E.bytesField(5, Array(repeating: 0, count: 12)))
            + tensorEvent(7, E.varintField(1, 1) + E.fixed32Field(5, Float(-2).bitPattern))
            + E.record(E.event(step: 8, tag: "train/kl", value: E.bytesField(5, [1, 2])))  // a histogram
            + E.record(E.event(step: 0, tag: "train/kl", value: E.simpleValue(.infinity)))
        let (samples, reader) = read(TensorBoardEventReader(), events)
        #expect(samples.map(\.step) == [1, 2, 3, 4, 5, 7, 0])
        #expect(samples.map(\.value) == [0.5, 0.25, 0.125, 0.333251953125, 0.75, -2, .infinity])
        #expect(reader.statistics.missingValues == 2, "a 3-element tensor and a histogram are not scalars")
        #expect(reader.metricKey == "train/kl")
    }

    @Test func theBestAliasOfTheFirstEventWithOneIsChosenAndStays() {
        typealias E = TFRecordEncoding
        let both =
            E.fixed64Field(1, 0) + E.varintField(2, 1)
            + E.bytesField(
                5,
                E.bytesField(1, E.bytesField(1, Array("train/approx_kl".utf8)) + E.simpleValue(0.9))
                    + E.bytesField(1, E.bytesField(1, Array("train/kl".utf8)) + E.simpleValue(0.1)))
        let events =
            E.record(both) + E.record(E.event(step: 2, tag: "train/approx_kl", value: E.simpleValue(0.8)))
            + E.record(E.event(step: 3, tag: "train/kl", value: E.simpleValue(0.2)))
        let (samples, reader) = read(TensorBoardEventReader(), events)
        #expect(reader.metricKey == "train/kl")
        #expect(samples.map(\.step) == [1, 3])
        let fixed = read(TensorBoardEventReader(metric: .key("train/approx_kl")), events).samples
        #expect(fixed.map(\.step) == [1, 2])
    }

    /// A step's scalars are one event each, in the writer's order (veRL logs `actor/ppo_kl` before
    /// `actor/kl_loss`): the best alias of the whole first step is chosen, as in a JSON Lines record.
    @Test func theBestAliasOfTheFirstStepIsChosenWhateverTheOrderOfItsEvents() {
        typealias E = TFRecordEncoding
        var events: [UInt8] = []
        for step in 1...3 {
            events += E.record(E.event(step: Int64(step), tag: "actor/ppo_kl", value: E.simpleValue(0.5)))
            events += E.record(E.event(step: Int64(step), tag: "actor/entropy", value: E.simpleValue(1.0)))
            events += E.record(
                E.event(step: Int64(step), tag: "actor/kl_loss", value: E.simpleValue(Float(step) / 8)))
        }
        for chunking in [Chunking.whole, .fixed(1), .fixed(7)] {
            let (samples, reader) = read(TensorBoardEventReader(), events, chunking)
            #expect(reader.metricKey == "actor/kl_loss")
            #expect(samples.map(\.step) == [1, 2, 3])
            #expect(samples.map(\.value) == [0.125, 0.25, 0.375])
            #expect(reader.statistics.records == 9 && reader.statistics.samples == 3)
        }
        // The chosen tag logged twice at the first step: both are samples, as at any later step (found by
        // fuzzing: the second was dropped while the tag was being chosen).
        let twice =
            E.record(E.event(step: 5, tag: "kl", value: E.simpleValue(0.5)))
            + E.record(E.event(step: 5, tag: "kl", value: E.simpleValue(0.25)))
        #expect(read(TensorBoardEventReader(), twice).samples.map(\.value) == [0.5, 0.25])
        // One step only, the writer then quiet: the step is held, then taken once the writer is quiet.
        let first = Array(events.prefix(events.count / 3))
        var (samples, reader) = read(TensorBoardEventReader(), first, finish: false)
        #expect(samples.isEmpty && reader.heldByteCount > 0)
        reader.takeHeldRecordIfComplete { samples.append($0) }
        #expect(samples.map(\.value) == [0.125] && reader.metricKey == "actor/kl_loss")
    }

    @Test func crc32cMatchesTheCheckValueAndTheTestImplementation() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { CRC32C.checksum($0.baseAddress!, count: $0.count) } == 0xE306_9283)
        // The same slicing with zlib's polynomial (W&B's chunks): its check value too.
        #expect(check.withUnsafeBytes { CRC32.checksum($0.baseAddress!, count: $0.count) } == 0xCBF4_3926)
        var generator = SeededGenerator(seed: 3)
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let fast = bytes.withUnsafeBytes {
                CRC32C.masked($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: $0.count)
            }
            #expect(fast == TFRecordEncoding.masked(TFRecordEncoding.crc32c(bytes)), "\(length) bytes")
        }
    }
}
