import Foundation
import TestSupport
import Testing

@testable import RunLogs

/// The W&B transaction log reader on files wandb-core wrote (Tests/Fixtures/formats/wandb) and on damaged
/// and hand-framed ones.
@Suite struct WandbReaderTests {
    typealias Value = WandbFixtures.Value

    /// The run's samples under `key` as the reader gives them, as expected.json spells them.
    static func values(
        id: String, name: String, key: String, metric: MetricSelection? = nil, chunking: Chunking = .whole
    ) -> (values: [Value], reader: WandbTransactionLogReader) {
        let (samples, reader) = read(
            WandbTransactionLogReader(metric: metric ?? .key(key)), WandbFixtures.bytes(id: id), chunking)
        return (
            samples.map { Value(run: reader.runName ?? "", key: key, step: $0.step, value: $0.value) }, reader
        )
    }

    /// Samples as comparable values: NaN equals NaN, other values to the bit.
    static func exact(_ samples: [MetricSample]) -> [String] { exactSamples(samples) }

    static let keys: [(id: String, key: String)] = [
        ("grpo01", "kl"), ("grpo01", "train/kl"), ("ppo02", "actor/kl_loss"), ("ppo02", "actor/ppo_kl"),
        ("ppo02", "train/kl"), ("big03", "kl"),
    ]

    @Test func theFixturesAreThere() {
        #expect(WandbFixtures.expected.count == 257)
        for run in WandbFixtures.runs {
            #expect(WandbFixtures.bytes(id: run.id).starts(with: WandbLogEncoding.header))
        }
    }

    /// Every value logged, under every key, at its step: exact doubles, NaN and the infinities, the step
    /// logged in two calls once, the step without KL left out; named after the run's display name or id.
    @Test(arguments: 0..<6)
    func everyValueAsWandbLoggedIt(_ index: Int) {
        let (id, key) = Self.keys[index]
        let name = WandbFixtures.runs.first { $0.id == id }!.name
        let (values, reader) = Self.values(id: id, name: name, key: key)
        #expect(values == WandbFixtures.expected(run: name, key: key))
        #expect(reader.runName == name)
        #expect(reader.statistics.badLines == 0 && reader.heldByteCount == 0)
        #expect(reader.statistics.samples == values.count)
    }

    /// Without `--metric`, the best KL alias of the first history record holding one.
    @Test func theKLKeyIsChosenAsInOtherFormats() {
        for (id, key) in [("grpo01", "kl"), ("ppo02", "actor/kl_loss"), ("big03", "kl")] {
            let name = WandbFixtures.runs.first { $0.id == id }!.name
            let (values, reader) = Self.values(id: id, name: name, key: key, metric: .automatic)
            #expect(reader.metricKey == key)
            #expect(values == WandbFixtures.expected(run: name, key: key))
        }
    }

    /// `--metric actor.kl_loss`, as the W&B UI names a nested key, reads `{"actor": {"kl_loss": x}}`.
    @Test func aNestedKeyIsNamedWithDotsOrSlashes() {
        let expected = WandbFixtures.expected(run: "ppo02", key: "actor/kl_loss")
        for metric in ["actor.kl_loss", "actor/kl_loss"] {
            let (values, reader) = Self.values(
                id: "ppo02", name: "ppo02", key: "actor/kl_loss", metric: .key(metric))
            #expect(values == expected, "\(metric)")
            #expect(reader.metricKey == metric)
        }
        let (none, _) = Self.values(id: "ppo02", name: "ppo02", key: "actor", metric: .key("actor"))
        #expect(none.isEmpty)
    }

    /// The file in 32 KiB blocks, in pieces of one byte, and in random pieces: the same samples, each
    /// once, and nothing held or counted bad.
    @Test(arguments: [
        Chunking.fixed(32 * 1024), .fixed(1), .fixed(7), .random(seed: 1, maximum: 50),
        .random(seed: 2, maximum: 5000), .random(seed: 3, maximum: 70_000),
    ])
    func anySplitReadsTheSame(_ chunking: Chunking) {
        for run in WandbFixtures.runs {
            let whole = read(WandbTransactionLogReader(), WandbFixtures.bytes(id: run.id))
            let split = read(WandbTransactionLogReader(), WandbFixtures.bytes(id: run.id), chunking)
            #expect(Self.exact(split.samples) == Self.exact(whole.samples), "\(run.id) \(chunking)")
            #expect(split.reader.statistics == whole.reader.statistics)
            #expect(split.reader.runName == run.name)
        }
    }

    /// A live file as wandb-core writes it, a block at a time and cut anywhere: after each piece the
    /// samples so far are the start of the whole file's, a record cut at the end is held and not counted
    /// bad, and taking held records when the writer goes quiet takes nothing.
    @Test(arguments: [Chunking.fixed(32 * 1024), .random(seed: 7, maximum: 9000)])
    func aGrowingFileGivesEveryStepOnceInOrder(_ chunking: Chunking) {
        let bytes = WandbFixtures.bytes(id: "big03")
        let whole = read(WandbTransactionLogReader(), bytes).samples
        var reader = WandbTransactionLogReader()
        var samples: [MetricSample] = []
        var heldAtSomePoint = false
        for range in chunking.pieces(of: bytes.count) {
            bytes[range].withUnsafeBytes { reader.consume($0) { samples.append($0) } }
            reader.takeHeldRecordIfComplete { samples.append($0) }
            #expect(Self.exact(Array(whole.prefix(samples.count))) == Self.exact(samples))
            #expect(reader.statistics.badLines == 0)
            if reader.heldByteCount > 0 { heldAtSomePoint = true }
        }
        reader.finish { samples.append($0) }
        #expect(Self.exact(samples) == Self.exact(whole))
        #expect(heldAtSomePoint, "the blocks end inside records")
        #expect(reader.statistics.badLines == 0)
    }

    /// The FIRST, MIDDLE and LAST parts of big03's 70 kB config record, held across two blocks.
    @Test func aRecordSpanningThreeBlocksIsHeldUntilItsLastPart() {
        let bytes = WandbFixtures.bytes(id: "big03")
        var reader = WandbTransactionLogReader()
        var held: [Int] = []
        for block in stride(from: 0, to: bytes.count, by: 32 * 1024) {
            bytes[block..<min(bytes.count, block + 32 * 1024)].withUnsafeBytes { reader.consume($0) { _ in } }
            held.append(reader.heldByteCount)
        }
        #expect(held.count == 3 && held[0] > 20_000, "\(held)")
        #expect(
            held.count == 3 && held[1] == held[0] + 32 * 1024 - 7, "the middle part fills block 1: \(held)")
    }

    /// The file cut anywhere and finished: what precedes the cut, then the record the cut falls in (none
    /// when it falls between records) held as still being written, not bad, as a live file is cut. After
    /// the exit record (wandb's last) the run is over and nothing more is written: a cut record after it
    /// is damage.
    @Test func aTruncatedFileHoldsItsCutRecordUnlessTheRunHadFinished() {
        let held = expectCutsHeldUnlessFinished(
            { WandbTransactionLogReader() }, WandbFixtures.bytes(id: "grpo01"), stride: 53)
        #expect(held > 100, "\(held) cuts held")
        for id in ["grpo01", "ppo02", "big03"] {
            let damaged = WandbLogEncoding.withACutRecordAfterItsEnd(WandbFixtures.bytes(id: id))
            let (samples, reader) = read(WandbTransactionLogReader(), damaged)
            #expect(
                Self.exact(samples)
                    == Self.exact(read(WandbTransactionLogReader(), WandbFixtures.bytes(id: id)).samples))
            #expect(reader.statistics.runFinished && reader.statistics.heldAtEnd == 0, "\(id)")
            #expect(reader.statistics.badLines == 1, "\(id)")
            #expect(
                reader.statistics.firstBadLines.first?.reason
                    == "record cut short: the file ends 47 bytes into it")
        }
    }

    /// A held record is one only while nothing follows it: another file read by the same reader (a run's
    /// next file) or a restart (the file replaced) means it will never be completed, and it is bad.
    @Test func aHeldRecordIsBadOnceAnotherStreamFollows() {
        let bytes = WandbFixtures.bytes(id: "grpo01")
        let cut = Array(bytes[..<(bytes.count / 2)])
        var (samples, reader) = read(WandbTransactionLogReader(), cut)
        #expect(reader.statistics.heldAtEnd > 0 && reader.statistics.badLines == 0)
        let held = reader.statistics.heldAtEnd
        var again = reader
        again.restart()
        #expect(again.statistics.heldAtEnd == 0 && again.statistics.badLines == 1)
        bytes.withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        #expect(reader.statistics.heldAtEnd == 0 && reader.statistics.badLines == 1)
        #expect(
            reader.statistics.firstBadLines[0].reason
                == "record cut short: the file ends \(held) bytes into it")
        reader.finish { samples.append($0) }
        #expect(reader.statistics.badLines == 1 && reader.statistics.heldAtEnd == 0)
    }

    /// One byte changed in a chunk's payload: one bad record (the CRC), the rest of its block skipped,
    /// and reading resumes at the next block, where the rest of the damaged record is skipped too.
    @Test func aBadCRCIsOneBadRecordAndReadingResumesAtTheNextBlock() {
        let bytes = WandbFixtures.bytes(id: "big03")
        let whole = read(WandbTransactionLogReader(), bytes).samples
        let chunks = Self.chunkOffsets(bytes)
        // The middle part of the 70 kB config record fills block 1: losing it loses no step.
        let middle = chunks.first { $0.type == 3 }!
        #expect(middle.offset == 32 * 1024)
        var damaged = bytes
        damaged[middle.offset + 20_000] ^= 0x40
        let (samples, reader) = read(WandbTransactionLogReader(), damaged)
        #expect(reader.statistics.badLines == 1)
        #expect(reader.statistics.firstBadLines.first?.reason.contains("CRC") == true)
        #expect(Self.exact(samples) == Self.exact(whole))
        // A history record's damage in block 0: it and the rest of block 0 are lost, not what follows.
        let history = chunks.filter { $0.type == 1 && $0.offset < 32 * 1024 }[20]
        var early = bytes
        early[history.offset + 10] ^= 0x01
        let resumed = read(WandbTransactionLogReader(), early)
        #expect(resumed.reader.statistics.badLines == 1)
        #expect(resumed.samples.count < whole.count)
        #expect(resumed.samples.count > whole.count / 2)
        #expect(Set(resumed.samples.map(\.step)).isSubset(of: Set(whole.map(\.step))))
        #expect(resumed.samples.map(\.step) == resumed.samples.map(\.step).sorted())
        #expect(Self.exact(Array(resumed.samples.suffix(1))) == Self.exact(Array(whole.suffix(1))))
        // A chunk header that cannot be right (a length past the block's end): the same.
        var header = bytes
        header[history.offset + 5] = 0xFF
        let refused = read(WandbTransactionLogReader(), header)
        #expect(refused.reader.statistics.badLines == 1)
        #expect(Self.exact(refused.samples) == Self.exact(resumed.samples))
    }

    /// Where each chunk starts, and its type.
    static func chunkOffsets(_ bytes: [UInt8]) -> [(offset: Int, type: UInt8)] {
        var chunks: [(Int, UInt8)] = []
        var position = 7
        while position + 7 <= bytes.count {
            let left = 32 * 1024 - position % (32 * 1024)
            if left < 7 {
                position += left
                continue
            }
            let length = Int(bytes[position + 4]) | Int(bytes[position + 5]) << 8
            chunks.append((position, bytes[position + 6]))
            position += 7 + length
        }
        return chunks
    }

    /// A record whose CRC verifies but whose protobuf does not parse: one bad record, and the next record
    /// (in the same block) is read.
    @Test func aMalformedRecordIsOneBadRecord() {
        let records: [[UInt8]] = [
            WandbLogEncoding.run(id: "r1", displayName: nil),
            WandbLogEncoding.history([(["kl"], "0.5")], step: 1),
            [0x12, 0x7F, 0x01],  // history, length 127, one byte
            WandbLogEncoding.history([(["kl"], "0.25")], step: 2),
            WandbLogEncoding.history([[0x0A, 0x09]], step: 3),  // an item whose key runs past its end
            WandbLogEncoding.history([(["kl"], "0.125")], step: 4),
        ]
        let (samples, reader) = read(WandbTransactionLogReader(), WandbLogEncoding.file(records))
        #expect(
            samples == [
                .init(step: 1, value: 0.5), .init(step: 2, value: 0.25), .init(step: 4, value: 0.125),
            ])
        #expect(reader.statistics.badLines == 2)
        #expect(reader.statistics.records == 4)
        #expect(reader.runName == "r1")
    }

    /// Values wandb can log under a KL key that are no number; `null`, strings, objects, booleans.
    @Test func valuesThatAreNoNumberAreMissingValues() {
        let jsons = [
            "null", "\"n/a\"", "{\"_type\": \"histogram\"}", "true", "[1]", "\"", "", "\"0.5\"", "-Infinity",
            "1e400",
        ]
        let records = jsons.enumerated().map { WandbLogEncoding.history([(["kl"], $1)], step: Int64($0)) }
        let (samples, reader) = read(WandbTransactionLogReader(), WandbLogEncoding.file(records))
        #expect(samples.map(\.step) == [7, 8, 9])
        #expect(samples.map(\.value) == [0.5, -.infinity, .infinity])
        #expect(reader.statistics.missingValues == 7)
    }

    /// The step: HistoryStep's, else the `_step` item, else the ordinal among history records; a key in
    /// `key` (older writers) is read as in `nested_key`; a nested key of three parts is joined.
    @Test func stepsAndKeysAsOlderWritersWriteThem() {
        let records: [[UInt8]] = [
            WandbLogEncoding.history([WandbLogEncoding.item(["kl"], json: "0.1")], step: 10),
            WandbLogEncoding.history(
                [
                    WandbLogEncoding.item(["kl"], json: "0.2", flatKey: true),
                    WandbLogEncoding.item(["_step"], json: "11"),
                ],
                step: nil),
            WandbLogEncoding.history([WandbLogEncoding.item(["kl"], json: "0.3")], step: nil),
            WandbLogEncoding.history([WandbLogEncoding.item(["kl"], json: "0.4")], step: 0),
        ]
        let (samples, _) = read(WandbTransactionLogReader(metric: .key("kl")), WandbLogEncoding.file(records))
        #expect(samples.map(\.step) == [10, 11, 2, 0])
        let nested = WandbLogEncoding.file([
            WandbLogEncoding.history([(["ppo", "actor", "kl_loss"], "0.5")], step: 3)
        ])
        #expect(
            read(WandbTransactionLogReader(metric: .key("ppo.actor.kl_loss")), nested).samples == [
                .init(step: 3, value: 0.5)
            ])
    }

    /// A run record names the run: its display name, else its id; a later one renames it.
    @Test func theRunIsNamedByItsRunRecord() {
        let records = [
            WandbLogEncoding.run(id: "abc123", displayName: ""),
            WandbLogEncoding.history([(["kl"], "0.5")], step: 1),
        ]
        var reader = WandbTransactionLogReader()
        #expect(reader.runName == nil)
        WandbLogEncoding.file(records).withUnsafeBytes { reader.consume($0) { _ in } }
        #expect(reader.runName == "abc123")
        var writer = WandbLogEncoding.Writer()
        writer.append(WandbLogEncoding.run(id: "abc123", displayName: "sweep-7"))
        writer.bytes.withUnsafeBytes { reader.consume(UnsafeRawBufferPointer(rebasing: $0[7...])) { _ in } }
        #expect(reader.runName == "sweep-7")
    }

    /// wandb writes an exit record when the run ends: the run is finished (never stale). A file cut
    /// before it, as a live run's is, is not.
    @Test func theExitRecordSaysTheRunFinished() {
        let bytes = WandbFixtures.bytes(id: "grpo01")
        #expect(read(WandbTransactionLogReader(), bytes).reader.statistics.runFinished)
        let live = read(WandbTransactionLogReader(), Array(bytes[..<(bytes.count / 2)]), finish: false)
        #expect(!live.reader.statistics.runFinished)
    }

    /// Without a KL key, the keys of the first history records are listed for the message.
    @Test func keysAreListedWhenNoneIsKL() {
        let records = [
            WandbLogEncoding.history([(["loss"], "0.5"), (["actor", "entropy"], "1.0")], step: 1)
        ]
        let (_, reader) = read(WandbTransactionLogReader(), WandbLogEncoding.file(records))
        #expect(reader.metricKey == nil)
        #expect(reader.statistics.keysSeen == ["loss", "actor/entropy"])
    }

    /// A record longer than the limit is skipped and counted; the next is read.
    @Test func aRecordLongerThanTheLimitIsSkipped() {
        let long = WandbLogEncoding.history(
            [(["notes"], "\"" + String(repeating: "x", count: 100_000) + "\"")], step: 1)
        let records = [long, WandbLogEncoding.history([(["kl"], "0.5")], step: 2)]
        let (samples, reader) = read(
            WandbTransactionLogReader(maxRecordBytes: 50_000), WandbLogEncoding.file(records),
            .random(seed: 4, maximum: 3000))
        #expect(samples == [.init(step: 2, value: 0.5)])
        #expect(reader.statistics.badLines == 1)
        #expect(reader.heldByteCount == 0)
    }

    /// Garbage never crashes; each bad stretch is counted, none is taken for a sample.
    @Test func garbageIsCountedNotRead() {
        var random = SeededGenerator(seed: 9)
        let noise = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let cases: [(bytes: [UInt8], atLeastBad: Int)] = [
            ([], 0), (WandbLogEncoding.header, 0), (Array(WandbLogEncoding.header.prefix(4)), 0),
            (noise, 2), (WandbLogEncoding.header + noise, 2), ([UInt8](repeating: 0, count: 70_000), 1),
            (WandbLogEncoding.header + [UInt8](repeating: 0, count: 70_000), 0),
        ]
        for (index, test) in cases.enumerated() {
            for chunking in [Chunking.whole, .random(seed: UInt64(index), maximum: 900)] {
                let (samples, reader) = read(WandbTransactionLogReader(), test.bytes, chunking)
                #expect(samples.isEmpty, "case \(index)")
                #expect(reader.statistics.badLines >= test.atLeastBad, "case \(index)")
                #expect(reader.statistics.badLines <= test.bytes.count / 32 * 1024 + 2, "case \(index)")
                #expect(reader.heldByteCount == 0)
                // A file that ends inside its header may be one wandb has only begun to write.
                if index == 2 { #expect(reader.statistics.heldAtEnd == 4) }
            }
        }
    }

    /// After a restart (the file truncated or replaced) everything read is new: append-only.
    @Test func aRestartReadsTheFileAgain() {
        let bytes = WandbFixtures.bytes(id: "grpo01")
        var reader = WandbTransactionLogReader()
        var samples: [MetricSample] = []
        feed(&reader, Array(bytes.prefix(5000)), into: &samples)
        reader.restart()
        feed(&reader, bytes, into: &samples)
        reader.finish { samples.append($0) }
        let whole = read(WandbTransactionLogReader(), bytes).samples
        #expect(Self.exact(Array(samples.suffix(whole.count))) == Self.exact(whole))
        #expect(reader.statistics.badLines == 0)
    }

    /// Recognised by its header, and by its name while the header is not all there.
    @Test func theFormatIsRecognised() {
        let bytes = WandbFixtures.bytes(id: "grpo01")
        #expect(LogFormat.detect(path: "x/anything", firstBytes: Array(bytes.prefix(64))) == .wandb)
        #expect(LogFormat.detect(path: "wandb/run-1/run-1.wandb", firstBytes: []) == .wandb)
        #expect(
            LogFormat.detect(path: "wandb/run-1/run-1.wandb", firstBytes: Array(bytes.prefix(3))) == .wandb)
        #expect(LogFormat(argument: "wandb") == .wandb)
        var auto = AutoDetectingReader(path: "run-1.wandb", metric: .automatic)
        var samples: [MetricSample] = []
        feed(&auto, bytes, .random(seed: 5, maximum: 10), into: &samples)
        auto.finish { samples.append($0) }
        #expect(Self.exact(samples) == Self.exact(read(WandbTransactionLogReader(), bytes).samples))
        #expect(auto.runName == "grpo-beta-0.04")
        // A damaged header: still the run file its name says, one bad record, every record after it read.
        var damaged = bytes
        damaged[1] = 0
        var named = AutoDetectingReader(path: "run-1.wandb", metric: .automatic)
        var read: [MetricSample] = []
        feed(&named, damaged, into: &read)
        named.finish { read.append($0) }
        #expect(Self.exact(read) == Self.exact(samples))
        #expect(named.statistics.badLines == 1)
    }

    /// The CRC is zlib's CRC-32 over the type byte and payload, as an independent table computes it; and
    /// the reader's slicing-by-8 agrees with that table on every length.
    @Test func theCRCIsIEEE() {
        for chunk in Self.chunkOffsets(WandbFixtures.bytes(id: "ppo02")).prefix(20) {
            let bytes = WandbFixtures.bytes(id: "ppo02")
            let length = Int(bytes[chunk.offset + 4]) | Int(bytes[chunk.offset + 5]) << 8
            let stored = bytes[chunk.offset..<(chunk.offset + 4)].withUnsafeBytes {
                $0.loadUnaligned(as: UInt32.self)
            }
            let payload = Array(bytes[(chunk.offset + 7)..<(chunk.offset + 7 + length)])
            #expect(WandbLogEncoding.crc32([chunk.type] + payload) == stored)
            let typeAndPayload = Array(bytes[(chunk.offset + 6)..<(chunk.offset + 7 + length)])
            #expect(
                typeAndPayload.withUnsafeBytes { CRC32.checksum($0.baseAddress!, count: $0.count) } == stored)
        }
        var random = SeededGenerator(seed: 3)
        let noise = (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
        for length in 0...noise.count {
            let slice = Array(noise.prefix(length))
            let sliced = slice.withUnsafeBytes {
                CRC32.checksum($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: length)
            }
            #expect(sliced == WandbLogEncoding.crc32(slice), "length \(length)")
        }
    }
}
