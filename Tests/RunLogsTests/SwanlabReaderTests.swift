import Foundation
import TestSupport
import Testing

@testable import RunLogs

/// The SwanLab run file reader on files swanlab wrote (Tests/Fixtures/formats/swanlab) and on damaged and
/// hand-built ones.
@Suite struct SwanlabReaderTests {
    typealias Value = SwanlabFixtures.Value

    /// The run's samples under `key` as the reader gives them, as expected.json spells them.
    static func values(
        name: String, key: String, metric: MetricSelection? = nil, chunking: Chunking = .whole,
        finish: Bool = true
    ) -> (values: [Value], reader: SwanlabRunFileReader) {
        let (samples, reader) = read(
            SwanlabRunFileReader(metric: metric ?? .key(key)), SwanlabFixtures.bytes(name: name), chunking,
            finish: finish)
        return (
            samples.map { Value(run: reader.runName ?? "", key: key, step: $0.step, value: $0.value) }, reader
        )
    }

    /// Samples as comparable values: NaN equals NaN, other values to the bit.
    static func exact(_ samples: [MetricSample]) -> [String] { exactSamples(samples) }

    static let keys: [(name: String, key: String)] = [
        ("grpo-seed0", "actor/kl_loss"), ("grpo-seed0", "actor/ppo_kl"), ("ppo-explicit", "train/kl"),
        ("long-run", "train/kl"), ("live-run", "train/kl"),
    ]

    @Test func theFixturesAreThere() {
        #expect(SwanlabFixtures.expected.count == 1593)
        #expect(SwanlabFixtures.runFolders.count == 4)
        for name in SwanlabFixtures.names {
            #expect(SwanlabFixtures.bytes(name: name).starts(with: SwanlabLogEncoding.header), "\(name)")
        }
        #expect(SwanlabFixtures.bytes(name: "long-run").count > 5 * 32 * 1024)
    }

    /// Every value logged, under every key, at its step: exact doubles, NaN, the infinities, -0.0 and the
    /// smallest subnormal, swanlab's own counter and explicit steps, the step without KL left out; named
    /// after the experiment. The live run's file ends inside a record: not read, and when the file is
    /// finished said as still being written (``ReadStatistics/heldAtEnd``), not counted as bad.
    @Test(arguments: 0..<5)
    func everyValueAsSwanlabLoggedIt(_ index: Int) {
        let (name, key) = Self.keys[index]
        let isLive = name == "live-run"
        let (values, reader) = Self.values(name: name, key: key, finish: !isLive)
        #expect(values == SwanlabFixtures.expected(run: name, key: key))
        #expect(values.count > 30)
        #expect(reader.runName == name)
        #expect(reader.statistics.badLines == 0)
        #expect(reader.statistics.samples == values.count)
        #expect((reader.heldByteCount > 0) == isLive)
        #expect(reader.statistics.runFinished == !isLive)
        if isLive {
            let finished = Self.values(name: name, key: key)
            #expect(finished.values == values)
            #expect(finished.reader.statistics.badLines == 0)
            #expect(finished.reader.statistics.heldAtEnd == reader.heldByteCount)
        }
    }

    /// Without `--metric`, the best KL alias of the first step: veRL's nested dict gives swanlab
    /// `actor/ppo_kl` (update size) before `actor/kl_loss` (reference), one record each; the reference
    /// KL is chosen, and none of its steps is lost to the wait.
    @Test func theKLKeyIsTheBestOfTheFirstStep() {
        for (name, key) in [
            ("grpo-seed0", "actor/kl_loss"), ("ppo-explicit", "train/kl"), ("long-run", "train/kl"),
        ] {
            for chunking in [Chunking.whole, .fixed(1), .random(seed: 3, maximum: 300)] {
                let (values, reader) = Self.values(
                    name: name, key: key, metric: .automatic, chunking: chunking)
                #expect(reader.metricKey == key, "\(name) \(chunking)")
                #expect(values == SwanlabFixtures.expected(run: name, key: key), "\(name) \(chunking)")
                #expect(reader.heldByteCount == 0)
            }
        }
    }

    /// `--metric actor.kl_loss` (the nested dict's keys with dots) reads swanlab's `actor/kl_loss`.
    @Test func aNestedKeyIsNamedWithDotsOrSlashes() {
        let expected = SwanlabFixtures.expected(run: "grpo-seed0", key: "actor/kl_loss")
        for metric in ["actor.kl_loss", "actor/kl_loss"] {
            let (values, reader) = Self.values(name: "grpo-seed0", key: "actor/kl_loss", metric: .key(metric))
            #expect(values == expected, "\(metric)")
            #expect(reader.metricKey == metric)
        }
    }

    /// In blocks, in Python's 8 KiB buffers, byte by byte and in random pieces: the same samples and
    /// counts.
    @Test(arguments: [
        Chunking.fixed(32 * 1024), .fixed(8192), .fixed(1), .fixed(7), .random(seed: 1, maximum: 50),
        .random(seed: 2, maximum: 5000), .random(seed: 3, maximum: 70_000),
    ])
    func anySplitReadsTheSame(_ chunking: Chunking) {
        for name in SwanlabFixtures.names {
            let whole = read(SwanlabRunFileReader(), SwanlabFixtures.bytes(name: name))
            let split = read(SwanlabRunFileReader(), SwanlabFixtures.bytes(name: name), chunking)
            #expect(Self.exact(split.samples) == Self.exact(whole.samples), "\(name) \(chunking)")
            #expect(split.reader.statistics == whole.reader.statistics)
            #expect(split.reader.runName == name)
        }
    }

    /// A live file growing as swanlab writes it (Python's buffer at a time, or whole blocks): after each
    /// piece, and taking held records as a quiet writer would have them taken, the samples so far are the
    /// start of the whole file's, and nothing is counted bad.
    @Test(arguments: [Chunking.fixed(32 * 1024), .fixed(8192), .random(seed: 7, maximum: 9000)])
    func aGrowingFileGivesEveryStepOnceInOrder(_ chunking: Chunking) {
        for name in ["long-run", "grpo-seed0"] {
            let bytes = SwanlabFixtures.bytes(name: name)
            let whole = read(SwanlabRunFileReader(), bytes).samples
            var reader = SwanlabRunFileReader()
            var samples: [MetricSample] = []
            var heldAtSomePoint = false
            for range in chunking.pieces(of: bytes.count) {
                bytes[range].withUnsafeBytes { reader.consume($0) { samples.append($0) } }
                if reader.heldByteCount > 0 { heldAtSomePoint = true }
                reader.takeHeldRecordIfComplete { samples.append($0) }
                #expect(Self.exact(Array(whole.prefix(samples.count))) == Self.exact(samples), "\(name)")
                #expect(reader.statistics.badLines == 0)
            }
            reader.finish { samples.append($0) }
            #expect(Self.exact(samples) == Self.exact(whole), "\(name)")
            #expect(heldAtSomePoint || name != "long-run", "the pieces end inside records")
            #expect(reader.statistics.badLines == 0)
        }
    }

    /// The file cut at every byte of its tail, and of a stretch around a block boundary (where a record is
    /// cut into a FIRST and a LAST chunk), then given the rest: before the rest comes, only whole records'
    /// steps, a prefix of the file's; after it, every step once, and nothing counted bad.
    @Test(arguments: ["long-run", "live-run"])
    func aRecordCutAtAnyByteIsHeldNotRead(_ name: String) {
        let bytes = SwanlabFixtures.bytes(name: name)
        let whole = read(SwanlabRunFileReader(), bytes, finish: false).samples
        let block = 2 * 32 * 1024
        let cuts = Array((bytes.count - 600)..<bytes.count) + Array((block - 150)..<(block + 150))
        for cut in cuts {
            var reader = SwanlabRunFileReader()
            var samples: [MetricSample] = []
            bytes[..<cut].withUnsafeBytes { reader.consume($0) { samples.append($0) } }
            let before = samples.count
            #expect(Self.exact(samples) == Self.exact(Array(whole.prefix(before))), "cut at \(cut)")
            bytes[cut...].withUnsafeBytes { reader.consume($0) { samples.append($0) } }
            #expect(Self.exact(samples) == Self.exact(whole), "cut at \(cut)")
            #expect(reader.statistics.badLines == 0, "cut at \(cut)")
        }
    }

    /// Every byte of a whole file as a cut, finished there: the steps before it, then the record the cut
    /// falls in held as still being written; a record cut after the finish record (swanlab's last) is
    /// damage, counted as cut short.
    @Test func aTruncatedFileHoldsItsCutRecordUnlessTheRunHadFinished() {
        let bytes = SwanlabFixtures.bytes(name: "ppo-explicit")
        let whole = read(SwanlabRunFileReader(), bytes).samples
        let held = expectCutsHeldUnlessFinished({ SwanlabRunFileReader() }, bytes)
        #expect(held > 1000, "\(held) cuts held")
        let damaged = WandbLogEncoding.withACutRecordAfterItsEnd(bytes)
        let (samples, reader) = read(SwanlabRunFileReader(), damaged)
        #expect(Self.exact(samples) == Self.exact(whole))
        #expect(reader.statistics.runFinished && reader.statistics.heldAtEnd == 0)
        #expect(reader.statistics.badLines == 1)
        #expect(
            reader.statistics.firstBadLines.first?.reason
                == "record cut short: the file ends 47 bytes into it")
    }

    /// One byte changed in a chunk: one bad record (the CRC), the rest of its block lost, reading resumes
    /// at the next block; the steps read are the file's, in order.
    @Test func aBadCRCIsOneBadRecordAndReadingResumesAtTheNextBlock() {
        let bytes = SwanlabFixtures.bytes(name: "long-run")
        let whole = read(SwanlabRunFileReader(), bytes).samples
        var damaged = bytes
        damaged[32 * 1024 + 5000] ^= 0x10
        let (samples, reader) = read(SwanlabRunFileReader(), damaged)
        #expect(reader.statistics.badLines == 1)
        #expect(reader.statistics.firstBadLines.first?.reason.contains("CRC") == true)
        #expect(samples.count < whole.count && samples.count > whole.count * 3 / 4)
        #expect(Set(Self.exact(samples)).isSubset(of: Set(Self.exact(whole))))
        #expect(samples.map(\.step) == samples.map(\.step).sorted())
        #expect(Self.exact(Array(samples.suffix(1))) == Self.exact(Array(whole.suffix(1))))
    }

    /// Hand-built records: proto3 leaves out a step of 0 and a value of +0.0; a scalar without a value
    /// message is a missing value; a malformed record is one bad record and the next is read; a start
    /// record without a name names the run by its id.
    @Test func recordsAsProto3WritesThem() {
        let records: [[UInt8]] = [
            SwanlabLogEncoding.start(name: nil, id: "abc123"),
            SwanlabLogEncoding.scalar("train/kl", step: 0, 0.5),
            SwanlabLogEncoding.scalar("train/kl", step: 1, 0.0),
            SwanlabLogEncoding.scalar("train/kl", step: 2, -0.0),
            SwanlabLogEncoding.scalar("train/kl", step: 3, nil),
            [0x6A, 0x7F, 0x01],  // a scalar of 127 bytes, one there
            SwanlabLogEncoding.scalar("train/loss", step: 4, 1),
            SwanlabLogEncoding.scalar("train/kl", step: Int64.max, .infinity),
            SwanlabLogEncoding.finish,
        ]
        let (samples, reader) = read(SwanlabRunFileReader(), SwanlabLogEncoding.file(records))
        #expect(
            Self.exact(samples)
                == Self.exact([
                    .init(step: 0, value: 0.5), .init(step: 1, value: 0), .init(step: 2, value: -0.0),
                    .init(step: Int64.max, value: .infinity),
                ]))
        #expect(reader.runName == "abc123")
        #expect(reader.metricKey == "train/kl")
        #expect(reader.statistics.badLines == 1)
        #expect(reader.statistics.missingValues == 1)
        #expect(reader.statistics.records == 8)
        #expect(reader.statistics.runFinished)
    }

    /// The first step's candidates are held until a candidate of another step shows it is over, or the
    /// writer goes quiet: then the best so far is chosen, and stays.
    @Test func theFirstStepIsHeldUntilItIsOverOrTheWriterQuiet() {
        var reader = SwanlabRunFileReader()
        var samples: [MetricSample] = []
        let first = SwanlabLogEncoding.file([
            SwanlabLogEncoding.scalar("actor/ppo_kl", step: 5, 0.01),
            SwanlabLogEncoding.scalar("reward", step: 5, 1),
        ])
        first.withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        #expect(samples.isEmpty && reader.heldByteCount == 1 && reader.metricKey == nil)
        var writer = WandbLogEncoding.Writer(header: SwanlabLogEncoding.header)
        writer.append(SwanlabLogEncoding.scalar("actor/ppo_kl", step: 5, 0.01))
        writer.append(SwanlabLogEncoding.scalar("reward", step: 5, 1))
        writer.append(SwanlabLogEncoding.scalar("actor/kl_loss", step: 5, 0.2))
        writer.append(SwanlabLogEncoding.scalar("actor/ppo_kl", step: 6, 0.02))
        writer.append(SwanlabLogEncoding.scalar("actor/kl_loss", step: 6, 0.3))
        let more = Array(writer.bytes[first.count...])
        more.withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        #expect(reader.metricKey == "actor/kl_loss")
        #expect(samples == [.init(step: 5, value: 0.2), .init(step: 6, value: 0.3)])
        #expect(reader.heldByteCount == 0)
        // A quiet writer after its first step: the best candidate so far is taken.
        var quiet = SwanlabRunFileReader()
        var taken: [MetricSample] = []
        first.withUnsafeBytes { quiet.consume($0) { taken.append($0) } }
        quiet.takeHeldRecordIfComplete { taken.append($0) }
        #expect(taken == [.init(step: 5, value: 0.01)] && quiet.metricKey == "actor/ppo_kl")
    }

    /// After a restart (the file truncated or replaced) the file is read again from its start: the first
    /// step's candidates held from before are not given as well as the ones read again.
    @Test func aRestartWhileTheFirstStepIsHeldGivesItOnce() {
        let bytes = SwanlabFixtures.bytes(name: "long-run")
        let whole = read(SwanlabRunFileReader(), bytes).samples
        var reader = SwanlabRunFileReader()
        var samples: [MetricSample] = []
        // The start, save, column and first scalar records: step 0's `train/kl`, held.
        let firstScalarEnd = bytes.indices.first { cut in
            var probe = SwanlabRunFileReader()
            var taken: [MetricSample] = []
            bytes[..<cut].withUnsafeBytes { probe.consume($0) { taken.append($0) } }
            probe.takeHeldRecordIfComplete { taken.append($0) }
            return !taken.isEmpty
        }!
        feed(&reader, Array(bytes[..<firstScalarEnd]), into: &samples)
        #expect(samples.isEmpty && reader.heldByteCount == 1)
        reader.restart()
        feed(&reader, bytes, into: &samples)
        reader.finish { samples.append($0) }
        let once = Self.exact(samples) == Self.exact(whole)
        #expect(once, "\(samples.count) samples of \(whole.count), starting \(samples.prefix(3))")
        #expect(reader.metricKey == "train/kl")
    }

    /// Without a KL key, the keys of the first scalar records are listed for the message.
    @Test func keysAreListedWhenNoneIsKL() {
        let records = [
            SwanlabLogEncoding.scalar("loss", step: 1, 0.5),
            SwanlabLogEncoding.scalar("actor/entropy", step: 1, 1),
            SwanlabLogEncoding.scalar("loss", step: 2, 0.4),
        ]
        let (_, reader) = read(SwanlabRunFileReader(), SwanlabLogEncoding.file(records))
        #expect(reader.metricKey == nil)
        #expect(reader.statistics.keysSeen == ["loss", "actor/entropy"])
    }

    /// Garbage never crashes, nor is taken for a sample; a W&B file is not a SwanLab one (its header is
    /// counted bad, its history records are no scalar records).
    @Test func garbageIsCountedNotRead() {
        var random = SeededGenerator(seed: 11)
        let noise = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let cases: [[UInt8]] = [
            [], SwanlabLogEncoding.header, Array(SwanlabLogEncoding.header.prefix(4)), noise,
            SwanlabLogEncoding.header + noise, [UInt8](repeating: 0, count: 70_000),
            WandbFixtures.bytes(id: "grpo01"),
        ]
        for (index, bytes) in cases.enumerated() {
            for chunking in [Chunking.whole, .random(seed: UInt64(index), maximum: 900)] {
                let (samples, reader) = read(SwanlabRunFileReader(), bytes, chunking)
                #expect(samples.isEmpty, "case \(index)")
                #expect(reader.heldByteCount == 0)
            }
        }
        #expect(
            read(SwanlabRunFileReader(), WandbFixtures.bytes(id: "grpo01")).reader.statistics.badLines == 1)
    }

    /// Recognised by its header, and by its name while the header is not all there; `--input-format
    /// swanlab`.
    @Test func theFormatIsRecognised() {
        let bytes = SwanlabFixtures.bytes(name: "grpo-seed0")
        #expect(LogFormat.detect(path: "x/anything", firstBytes: Array(bytes.prefix(64))) == .swanlab)
        #expect(LogFormat.detect(path: "swanlog/run-1/run-1.swanlab", firstBytes: []) == .swanlab)
        #expect(LogFormat.detect(path: "run-1.swanlab", firstBytes: Array(bytes.prefix(3))) == .swanlab)
        #expect(LogFormat.detect(path: "x/anything", firstBytes: WandbFixtures.bytes(id: "grpo01")) == .wandb)
        #expect(LogFormat(argument: "swanlab") == .swanlab)
        var auto = AutoDetectingReader(path: "run-1.swanlab", metric: .automatic)
        var samples: [MetricSample] = []
        feed(&auto, bytes, .random(seed: 5, maximum: 10), into: &samples)
        auto.finish { samples.append($0) }
        #expect(Self.exact(samples) == Self.exact(read(SwanlabRunFileReader(), bytes).samples))
        #expect(auto.runName == "grpo-seed0")
        #expect(auto.metricKey == "actor/kl_loss")
    }
}
