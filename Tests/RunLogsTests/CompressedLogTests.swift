import Foundation
import TestSupport
import Testing

@testable import RunLogs

/// Compressed logs read as the logs themselves, recognised from their first bytes, whatever their names.
@Suite struct CompressedLogTests {
    /// A log of each format kltop reads as a byte stream, by its path under Tests/Fixtures.
    static let logs = [
        "conformance/bursty_sigma3.jsonl", "formats/sb3/progress.csv", "formats/console/verl_ray_nocolor.log",
        "formats/console/hf_trainer_tqdm_v5.24.0.log", "formats/trl/grpo/checkpoint-60/trainer_state.json",
        "formats/tensorboard/single_run/events.out.tfevents.1700000000.fixturehost",
    ]

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(relative))))
    }

    static func reader(_ name: String) -> DecompressingReader<AutoDetectingReader> {
        DecompressingReader(AutoDetectingReader(path: name, metric: .automatic))
    }

    @Test(arguments: logs)
    func gzipAndZstdLogsReadAsTheLogItself(_ relative: String) throws {
        let plain = try Self.bytes(relative)
        let name = String(relative.split(separator: "/").last!)
        let expected = read(Self.reader(name), plain)
        #expect(!expected.samples.isEmpty)
        for (compressed, suffix) in [(Compressing.gzip(plain), ".gz"), (Compressing.zstd(plain), ".zst")] {
            for chunking in [Chunking.whole, .fixed(7), .random(seed: 3, maximum: 300)] {
                let (samples, reader) = read(Self.reader(name + suffix), compressed, chunking)
                #expect(samples == expected.samples, "\(suffix), \(chunking)")
                #expect(reader.statistics.records == expected.reader.statistics.records)
                #expect(reader.statistics.badLines == expected.reader.statistics.badLines)
                #expect(reader.statistics.bytes == compressed.count)
            }
        }
    }

    @Test func recognisedByContentNotByName() {
        let text =
            (0..<50).map { "{\"step\": \($0), \"kl\": 0.0\($0 % 9 + 1)}" }.joined(separator: "\n") + "\n"
        for (compressed, compression) in [
            (Compressing.gzip(text), Compression.gzip), (Compressing.zstd(text), .zstd),
        ] {
            var (samples, reader) = read(Self.reader("run.jsonl"), compressed, .fixed(1), finish: false)
            #expect(reader.compression == compression)
            reader.finish { samples.append($0) }
            #expect(samples.map(\.step) == Array(0..<50))
            #expect(reader.statistics.badLines == 0)
        }
        let (samples, reader) = read(Self.reader("run.jsonl.gz"), Array(text.utf8))
        #expect(samples.count == 50 && reader.compression == nil, "a plain log named .gz is read as it is")
    }

    /// `cat a.gz b.gz > c.gz` (and logrotate's `delaycompress` chains) are one stream of several members.
    @Test func concatenatedMembersAndFramesAreOneLog() {
        let first = (0..<10).map { "{\"step\": \($0), \"kl\": 0.01}\n" }.joined()
        let second = (10..<20).map { "{\"step\": \($0), \"kl\": 0.02}\n" }.joined()
        for compress in [Compressing.gzip as (String) -> [UInt8], Compressing.zstd] {
            let (samples, reader) = read(
                Self.reader("run.jsonl"), compress(first) + compress(second), .fixed(13))
            #expect(samples.map(\.step) == Array(0..<20))
            #expect(reader.statistics.badLines == 0)
        }
    }

    @Test func aLogCutShortIsReadAsFarAsItGoesAndSaysSo() {
        // Random values compress poorly: several zstd blocks, so that a cut one leaves the ones before it.
        var generator = SeededGenerator(seed: 5)
        let text = (0..<20_000).map {
            "{\"step\": \($0), \"kl\": \(Double.random(in: 0..<1, using: &generator))}\n"
        }
        .joined()
        for compressed in [Compressing.gzip(text), Compressing.zstd(text)] {
            let cut = Array(compressed.prefix(compressed.count * 3 / 4))
            let (samples, reader) = read(Self.reader("run.jsonl"), cut, .fixed(4096))
            #expect(samples.count > 1000 && samples.count < 20_000)
            #expect(samples.map(\.step) == Array(0..<Int64(samples.count)), "in order, from the start")
            #expect(reader.statistics.firstBadLines.contains { $0.reason.contains("ends early") })
        }
    }

    /// Damaged data decodes into wrong text until the decompressor notices (deflate checks only its CRC at
    /// the member's end): what comes before the damage is read right, the damage is said once, and nothing
    /// crashes or hangs.
    @Test func corruptDataIsSaidOnce() {
        var generator = SeededGenerator(seed: 8)
        let text = (0..<20_000).map {
            "{\"step\": \($0), \"kl\": \(Double.random(in: 0..<1, using: &generator))}\n"
        }
        .joined()
        for var compressed in [Compressing.gzip(text), Compressing.zstd(text)] {
            for index in compressed.count / 2..<compressed.count / 2 + 8 { compressed[index] ^= 0x5A }
            let (samples, reader) = read(Self.reader("run.jsonl"), compressed, .fixed(100))
            let rightFromTheStart = zip(samples, 0...).prefix { $0.0.step == $0.1 }.count
            #expect(rightFromTheStart > 100)
            let problems = reader.statistics.firstBadLines.filter { $0.reason.contains("corrupt") }
            #expect(problems.count == 1, "\(reader.statistics.firstBadLines)")
        }
    }

    @Test func rotationNames() {
        #expect(LogRotation.parse("train.log.1")! == ("train.log", .numbered(1)))
        #expect(LogRotation.parse("train.jsonl.12.gz")! == ("train.jsonl", .numbered(12)))
        #expect(LogRotation.parse("train.log-20261205")! == ("train.log", .dated("20261205")))
        #expect(LogRotation.parse("train.log-20261205.zst")! == ("train.log", .dated("20261205")))
        #expect(LogRotation.parse("train.log") == nil)
        #expect(LogRotation.parse("run-2.jsonl") == nil)
        #expect(LogRotation.parse("seed-12345678") == nil, "a number that is no date")
        #expect(LogRotation.parse("events.out.tfevents.1700000000.host.4242.1") == nil)
        #expect(LogRotation.Age.numbered(3) < .numbered(2) && .dated("20261201") < .dated("20261202"))
        #expect(LogRotation.baseName("run.csv.gz") == "run.csv")
        #expect(RunNaming.name(forPath: "/r/ppo_lr3e-4.jsonl.2.gz") == "ppo_lr3e-4")
    }
}
