import Foundation
import RunLogs
import TestSupport
import Testing

@Suite struct TrainerStateReaderTests {
    static let grpo = "trl/grpo/checkpoint-60/trainer_state.json"
    static let onlineDPO = "trl/online_dpo/checkpoint-40/trainer_state.json"

    @Test(arguments: [grpo, onlineDPO])
    func everyFixtureReadsAsExpected(_ file: String) throws {
        let entry = FormatExpectations.entry(file)
        let (samples, reader) = read(TrainerStateReader(), try formatFixture(file))
        #expect(reader.metricKey == entry["kl_key"] as? String)
        let steps = try #require(FormatExpectations.steps(entry))
        let stride = entry["step_stride"] as? Int ?? 1
        #expect(
            samples.map(\.step)
                == Array(Swift.stride(from: steps.lowerBound, through: steps.upperBound, by: stride)).map(
                    Int64.init))
        let spike = FormatExpectations.spike(entry)
        #expect(samples.map(\.value) == samples.map { klAt(Int($0.step), spike: spike) })
        #expect(reader.statistics.badLines == 0)
    }

    /// The state the trainer writes at the end of training has `global_step` at `max_steps`: the run is
    /// finished (not stale when it goes quiet). A checkpoint from before the end is not.
    @Test func aStateWhoseGlobalStepReachedMaxStepsSaysTheRunFinished() throws {
        let (_, reader) = read(TrainerStateReader(), try formatFixture(Self.grpo))
        #expect(reader.statistics.runFinished)
        let text = String(decoding: try formatFixture(Self.grpo), as: UTF8.self)
            .replacingOccurrences(of: "\"max_steps\": 60", with: "\"max_steps\": 600")
        let (_, early) = read(TrainerStateReader(), Array(text.utf8))
        #expect(!early.statistics.runFinished)
    }

    @Test func evalAndSummaryEntriesAreRecordsWithoutKL() throws {
        let (samples, reader) = read(TrainerStateReader(), try formatFixture(Self.grpo))
        #expect(samples.count == 60)
        #expect(reader.statistics.records == 64, "60 training entries, eval at 20/40/60, the summary at 60")
    }

    /// The fixture cut to its first `count` log entries: the file as an earlier checkpoint wrote it.
    static func checkpoint(_ document: [UInt8], entries count: Int) throws -> [UInt8] {
        let text = String(decoding: document, as: UTF8.self)
        let open = try #require(text.range(of: "\"log_history\": [\n"))
        let close = try #require(text.range(of: "\n  ],\n", range: open.upperBound..<text.endIndex))
        var ends: [String.Index] = []
        var cursor = open.upperBound
        while let end = text.range(of: "\n    }", range: cursor..<close.lowerBound) {
            ends.append(end.upperBound)
            cursor = end.upperBound
        }
        let cut = count == 0 ? text.index(before: open.upperBound) : ends[count - 1]
        return Array((text[..<cut] + text[close.lowerBound...]).utf8)
    }

    @Test func rewritesAtEachCheckpointEmitEveryEntryOnce() throws {
        let final = try formatFixture(Self.grpo)
        let once = read(TrainerStateReader(), final)
        let states = try [0, 21, 44].map { try Self.checkpoint(final, entries: $0) } + [final]
        for state in states.dropLast() {
            #expect(read(TrainerStateReader(), state).reader.statistics.badLines == 0)
        }
        // Followed: restart() at each rewrite, a piece of the new document held when the next rewrite comes.
        var reader = TrainerStateReader()
        var samples: [MetricSample] = []
        for (index, state) in states.enumerated() {
            if index > 0 {
                reader.restart()  // the trainer rewrote the file; it is caught half written,
                feed(&reader, Array(state.prefix(state.count / 2)), into: &samples)
                reader.restart()  // then seen again from its start
            }
            feed(&reader, state, .random(seed: UInt64(index), maximum: 500), into: &samples)
        }
        #expect(samples == once.samples)
        #expect(reader.statistics.badLines == 0)
        // Read as successive files (each checkpoint's copy), with finish between.
        var sequential = TrainerStateReader()
        var sequentialSamples: [MetricSample] = []
        for state in states {
            feed(&sequential, state, into: &sequentialSamples)
            sequential.finish { sequentialSamples.append($0) }
        }
        #expect(sequentialSamples == once.samples)
        #expect(sequential.statistics.records == once.reader.statistics.records)
    }

    @Test func aDifferentHistoryIsReadFromWhereItDiffers() {
        func state(_ kls: [String]) -> [UInt8] {
            let entries = kls.enumerated().map { "{\"kl\": \($0.element), \"step\": \($0.offset + 1)}" }
            return Array("{\"log_history\": [\(entries.joined(separator: ", "))]}\n".utf8)
        }
        var (samples, reader) = read(TrainerStateReader(), state(["0.1", "0.2", "NaN"]), finish: false)
        reader.restart()
        feed(&reader, state(["0.1", "0.25", "NaN", "0.4"]), into: &samples)
        #expect(samples.map(\.step) == [1, 2, 3, 2, 3, 4])
        #expect(samples[2].value.isNaN && samples[4].value.isNaN)
    }

    @Test func anIncompleteDocumentIsHeldThenCutShortOnFinish() throws {
        let bytes = try formatFixture(Self.onlineDPO)
        let complete = read(TrainerStateReader(), bytes).samples
        for cut in stride(from: 0, to: bytes.count - 1, by: 97) + [bytes.count - 2] {
            var (samples, reader) = read(
                TrainerStateReader(), Array(bytes[..<cut]), .fixed(64), finish: false)
            #expect(samples.isEmpty && reader.statistics.badLines == 0, "held at \(cut)")
            feed(&reader, Array(bytes[cut...]), into: &samples)
            #expect(samples == complete, "completed from \(cut)")
        }
        var (samples, reader) = read(TrainerStateReader(), Array(bytes.dropLast(2)), finish: false)
        reader.finish { samples.append($0) }
        #expect(samples.isEmpty && reader.statistics.badLines == 1)
        #expect(reader.statistics.firstBadLines.first?.reason.hasPrefix("cut short") == true)
    }

    @Test func textAfterTheDocumentIsCountedOnceNotRead() {
        let document = Array("{\"log_history\": [{\"kl\": 1, \"step\": 1}]}\n".utf8)
        let clean = read(TrainerStateReader(), document + Array("  \n".utf8), .fixed(5))
        #expect(clean.samples.count == 1 && clean.reader.statistics.badLines == 0)
        let extra = read(TrainerStateReader(), document + document + document, .fixed(7))
        #expect(extra.samples.count == 1 && extra.reader.statistics.badLines == 1)
    }

    /// Found by fuzzing: a stray `}` before the document was kept or dropped depending on how the bytes
    /// arrived, so the same file read differently.
    @Test func textBeforeTheDocumentMakesItNotADocumentHoweverTheBytesArrive() {
        for text in ["}{\"log_history\": []}", "\"x\" {\"log_history\": []}"] {
            for chunking in [Chunking.whole, .fixed(1)] {
                let (samples, reader) = read(TrainerStateReader(), Array(text.utf8), chunking)
                #expect(samples.isEmpty && reader.statistics.badLines == 1, "\(chunking)")
                #expect(reader.statistics.firstBadLines.first?.reason == "not a JSON object", "\(chunking)")
            }
        }
    }

    /// Found by fuzzing: spaces before the document were dropped when they came in a chunk of their own, so
    /// line numbers depended on how the bytes arrived.
    @Test func spacesBeforeTheDocumentCountInLineNumbersHoweverTheBytesArrive() {
        let text = Array("\n\n{\"log_history\": [\n{\"kl\": 1, \"step\": 1},\n7]}".utf8)
        for chunking in [Chunking.whole, .fixed(1), .fixed(2)] {
            let reader = read(TrainerStateReader(), text, chunking).reader
            #expect(reader.statistics.firstBadLines.map(\.lineNumber) == [5], "\(chunking)")
        }
    }

    /// Found by fuzzing: a second log_history was read too, offering the deduplicator its positions twice,
    /// so reading the same file again emitted its entries again.
    @Test func onlyTheFirstLogHistoryIsRead() {
        let text = Array("{\"log_history\": [{\"kl\": 1}], \"log_history\": [{\"kl\": 2}]}".utf8)
        var (samples, reader) = read(TrainerStateReader(), text)
        reader.restart()
        feed(&reader, text, into: &samples)
        reader.finish { samples.append($0) }
        #expect(samples == [MetricSample(step: 0, value: 1)])
    }

    /// Found by fuzzing: an entry without a step was numbered by a count that went on across copies of the
    /// file, so each rewrite emitted it again under a new step.
    @Test func anEntryWithoutAStepIsRecognisedInTheNextCopy() {
        var (samples, reader) = read(TrainerStateReader(), Array("{\"log_history\": [{\"kl\": 0.5}]}".utf8))
        reader.restart()
        feed(&reader, Array("{\"log_history\": [{\"kl\": 0.5}, {\"kl\": 0.7}]}".utf8), into: &samples)
        #expect(samples == [MetricSample(step: 0, value: 0.5), MetricSample(step: 1, value: 0.7)])
    }

    @Test func garbageAndOtherJSONAreBadNotFatal() {
        var generator = SeededGenerator(seed: 9)
        let garbage = (0..<3000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let noise = read(TrainerStateReader(), garbage, .random(seed: 3, maximum: 100))
        #expect(noise.samples.isEmpty && noise.reader.statistics.badLines <= 1)
        let other = read(TrainerStateReader(), Array("{\"a\": [1, {\"b\": \"}\"}]}".utf8))
        #expect(other.reader.statistics.firstBadLines.first?.reason.contains("no log_history") == true)
        let badEntry = read(
            TrainerStateReader(),
            Array("{\"log_history\": [{\"kl\": 1, \"step\": 1}, 7, {\"kl\": 2, \"step\": 2}]}".utf8))
        #expect(badEntry.samples.map(\.step) == [1, 2] && badEntry.reader.statistics.badLines == 1)
    }
}
