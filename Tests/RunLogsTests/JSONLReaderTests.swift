import RunLogs
import Testing

/// Reads `text` through a JSONLReader, optionally cut into pieces of `chunk` bytes.
func readJSONL(_ text: String, metric: MetricSelection = .automatic, chunk: Int? = nil, finish: Bool = true)
    -> (samples: [MetricSample], reader: JSONLReader)
{
    var reader = JSONLReader(metric: metric, maxLineBytes: 4096)
    var samples: [MetricSample] = []
    let bytes = Array(text.utf8)
    let size = max(chunk ?? bytes.count, 1)
    var offset = 0
    while offset < bytes.count {
        let end = min(offset + size, bytes.count)
        bytes[offset..<end].withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        offset = end
    }
    if finish { reader.finish { samples.append($0) } }
    return (samples, reader)
}

@Suite struct JSONLReaderTests {
    /// A held last line taken after a quiet period is read as it would be once its newline came: a record
    /// without the KL key has its keys listed (they were not: found by fuzzing).
    @Test func aLastLineTakenWithoutItsNewlineIsReadAsWithIt() {
        let text = "{\"step\": 83, \"loss\": 0.5} "
        var (_, taken) = readJSONL(text, finish: false)
        var samples: [MetricSample] = []
        taken.takeHeldRecordIfComplete { samples.append($0) }
        let (_, finished) = readJSONL(text)
        #expect(samples.isEmpty)
        #expect(taken.statistics.records == 1)
        #expect(taken.statistics.keysSeen == ["step", "loss"])
        #expect(taken.statistics == finished.statistics)
    }

    @Test func flatRecords() {
        let (samples, reader) = readJSONL(
            "{\"step\": 12, \"kl\": 0.013, \"loss\": 1.5}\n{\"step\": 13, \"kl\": 0.014}\n")
        #expect(samples == [MetricSample(step: 12, value: 0.013), MetricSample(step: 13, value: 0.014)])
        #expect(reader.metricKey == "kl")
        #expect(reader.statistics.records == 2 && reader.statistics.badLines == 0)
    }

    @Test func verlNestedData() {
        let line =
            #"{"step": 7, "data": {"actor/entropy": 2.0, "actor/kl_loss": 0.0013, "actor/ppo_kl": 0.5}}"#
        let (samples, reader) = readJSONL(line + "\n")
        #expect(samples == [MetricSample(step: 7, value: 0.0013)])
        #expect(reader.metricKey == "actor/kl_loss")
    }

    @Test func referenceKLIsPreferredToOldPolicyKLWhateverTheOrderInTheLine() {
        let (samples, reader) = readJSONL(#"{"approx_kl": 0.9, "step": 1, "objective/kl": 0.1}"# + "\n")
        #expect(samples == [MetricSample(step: 1, value: 0.1)])
        #expect(reader.metricKey == "objective/kl")
    }

    @Test func theChosenKeyStaysChosen() {
        let text =
            #"{"step": 0, "approx_kl": 0.5}"# + "\n" + #"{"step": 1, "kl": 0.1, "approx_kl": 0.6}"# + "\n"
        let (samples, reader) = readJSONL(text)
        #expect(samples.map(\.value) == [0.5, 0.6])
        #expect(reader.metricKey == "approx_kl")
    }

    @Test func metricOverride() {
        let text = #"{"step": 3, "kl": 0.1, "my/kl": 0.7, "data": {"inner": 0.9}}"# + "\n"
        #expect(readJSONL(text, metric: .key("my/kl")).samples.map(\.value) == [0.7])
        #expect(readJSONL(text, metric: .key("inner")).samples.map(\.value) == [0.9])
        #expect(readJSONL(text, metric: .key("data.inner")).samples.map(\.value) == [0.9])
        let absent = readJSONL(text, metric: .key("nope"))
        #expect(absent.samples.isEmpty && absent.reader.statistics.records == 1)
    }

    @Test func pythonNonFiniteLiteralsNullAndStrings() {
        let text = """
            {"step": 1, "kl": NaN}
            {"step": 2, "kl": Infinity}
            {"step": 3, "kl": -Infinity}
            {"step": 4, "kl": null}
            {"step": 5, "kl": "0.0113"}
            {"step": 6, "kl": " 2.5e-3 "}
            {"step": 7, "kl": "n/a"}
            {"step": 8, "kl": true}
            {"step": 9, "kl": [1, 2]}
            {"step": 10, "kl": 1e-320}

            """
        let (samples, reader) = readJSONL(text)
        #expect(samples.map(\.step) == [1, 2, 3, 5, 6, 10])
        #expect(samples[0].value.isNaN && samples[1].value == .infinity && samples[2].value == -.infinity)
        #expect(samples[3].value == 0.0113 && samples[4].value == 0.0025 && samples[5].value == 1e-320)
        #expect(reader.statistics.missingValues == 4)
        #expect(reader.statistics.records == 10 && reader.statistics.badLines == 0)
    }

    @Test func withoutAStepTheRecordOrdinalIsTheStep() {
        let text = "{\"kl\": 0.1}\n{\"loss\": 3}\n{\"kl\": 0.2}\n"
        #expect(
            readJSONL(text).samples == [MetricSample(step: 0, value: 0.1), MetricSample(step: 2, value: 0.2)])
    }

    @Test func stepForms() {
        let text = """
            {"global_step": 5, "kl": 1}
            {"step": 6.0, "kl": 1}
            {"step": "7", "kl": 1}
            {"_step": 8, "step": 9, "kl": 1}
            {"step": -4, "kl": 1}
            {"step": 99999999999999999999999, "kl": 1}
            {"step": 1.5, "kl": 1}

            """
        #expect(readJSONL(text).samples.map(\.step) == [5, 6, 7, 9, -4, 5, 6])
    }

    /// A step that is no whole number does not lose the record's KL value: the ordinal stands in, and the
    /// reader counts how often, with the first as written.
    @Test func anUnusableStepIsReplacedByTheOrdinalAndCounted() {
        let text = """
            {"step": 3, "kl": 1}
            {"step": 12.5, "kl": 1}
            {"step": 1e20, "kl": 1}
            {"step": "abc", "kl": 1}
            {"step": 4, "kl": null}
            {"step": 4.5, "loss": 1}

            """
        let (samples, reader) = readJSONL(text)
        #expect(samples.map(\.step) == [3, 1, 2, 3])
        #expect(reader.statistics.unusableSteps == 3, "records without a KL value do not count")
        #expect(reader.statistics.firstUnusableStep == BadLine(lineNumber: 2, reason: "12.5"))
    }

    /// Malformed JSON is a bad line with its reason, wherever in the record it is; valid JSON that is not a
    /// number (true, a string, a list) under the KL key is a missing value.
    @Test func malformedNumbersAreBadLinesNotMissingValues() {
        let bad = [
            #"{"kl": 1.0e}"#, #"{"kl": 01}"#, #"{"kl": -}"#, #"{"kl": +1}"#, #"{"kl": .5}"#, #"{"kl": 1.}"#,
            #"{"kl": nan}"#, #"{"kl": True}"#, #"{"loss": 1.0e, "kl": 0.1}"#, #"{"data": {"kl": 0x10}}"#,
        ]
        let (badSamples, badReader) = readJSONL(bad.joined(separator: "\n") + "\n")
        #expect(badSamples.isEmpty)
        #expect(badReader.statistics.badLines == bad.count && badReader.statistics.missingValues == 0)
        #expect(
            badReader.statistics.firstBadLines.map(\.reason) == [
                "invalid number 1.0e", "invalid number 01", "invalid number -", "invalid number +1",
                "invalid number .5",
            ])
        let good = [
            #"{"kl": -0}"#, #"{"kl": 1E5}"#, #"{"kl": 1e+5}"#, #"{"kl": -1.5e-3}"#, #"{"kl": -Infinity}"#,
            #"{"kl": true}"#, #"{"kl": "abc"}"#, #"{"kl": [0.1]}"#, #"{"kl": false, "x": null}"#,
        ]
        let (samples, reader) = readJSONL(good.joined(separator: "\n") + "\n")
        #expect(samples.map(\.value) == [0, 1e5, 1e5, -1.5e-3, -.infinity])
        #expect(reader.statistics.missingValues == 4 && reader.statistics.badLines == 0)
    }

    /// Python's json keeps the last of a key written twice.
    @Test func ofAKeyWrittenTwiceTheLastWins() {
        let text = """
            {"step": 1, "kl": 0.1, "kl": 0.2}
            {"step": 2, "step": 7, "kl": 0.3}
            {"step": 3, "kl": 0.4, "kl": null}
            {"step": 4, "data": {"actor/kl_loss": 0.5, "actor/kl_loss": 0.6}}

            """
        let (samples, reader) = readJSONL(text)
        #expect(samples == [MetricSample(step: 1, value: 0.2), MetricSample(step: 7, value: 0.3)])
        #expect(reader.statistics.missingValues == 1)
        let nested = readJSONL(#"{"step": 4, "data": {"actor/kl_loss": 0.5, "actor/kl_loss": 0.6}}"# + "\n")
        #expect(nested.samples == [MetricSample(step: 4, value: 0.6)])
    }

    /// A crash leaves NULs where blocks were never written; the record written after them on the same line
    /// is read, and the NULs reported.
    @Test func aRecordAfterARunOfNULsIsRead() {
        let text =
            "{\"step\": 1, \"kl\": 0.1}\n" + String(repeating: "\u{0}", count: 50)
            + "{\"step\": 2, \"kl\": 0.2}\n"
            + String(repeating: "\u{0}", count: 8) + "garbage\n"
        let (samples, reader) = readJSONL(text)
        #expect(samples.map(\.step) == [1, 2])
        #expect(
            reader.statistics.firstBadLines == [
                BadLine(lineNumber: 2, reason: "50 NUL bytes (never written, as a crash leaves them)"),
                BadLine(
                    lineNumber: 3,
                    reason: "8 NUL bytes (never written, as a crash leaves them), then not a JSON object"),
            ])
    }

    @Test func numbersParseExactlyAsPythonWroteThem() {
        let values = [0.010644092376577732, 1.7976931348623157e308, 5e-324, 0.1, 123456789.12345679, -0.0]
        let text = values.map { "{\"kl\": \($0)}\n" }.joined()
        let read = readJSONL(text).samples.map(\.value)
        #expect(read.map(\.bitPattern) == values.map(\.bitPattern))
    }

    /// A file starting with a byte-order mark was recognised as JSON Lines, and then its first record was a
    /// bad line.
    @Test func aByteOrderMarkBeforeARecordIsSkipped() {
        let (samples, reader) = readJSONL("\u{FEFF}{\"step\": 1, \"kl\": 0.5}\n{\"step\": 2, \"kl\": 0.6}\n")
        #expect(samples.map(\.step) == [1, 2])
        #expect(reader.statistics.badLines == 0)
    }

    @Test func badLinesAreCountedWithLineNumbersAndNeverFatal() {
        let lines = [
            #"{"step": 0, "kl": 0.1}"#,
            "not json at all",
            #"{"step": 1, "kl": 0.2"#,  // cut short
            #"{"step": 2, "kl": 0.3}{"step": 3, "kl": 0.4}"#,  // two records run together
            "\u{01}\u{02}\u{FF}garbage",
            #"{"step": 4, "kl": 0.5, "x": [1, 2}}"#,  // mismatched brackets
            #"{"step": 5 "kl": 0.6}"#,  // missing comma
            #"["step", 6]"#,  // not an object
            #"{"step": 7, "kl": 0.8, "s": "unterminated}"#,
            #"{"step": 8, "kl": @}"#,
            #"{"step": 9, "kl": 1.0}"#,
        ]
        let (samples, reader) = readJSONL(lines.joined(separator: "\n") + "\n")
        #expect(samples.map(\.step) == [0, 9])
        #expect(reader.statistics.badLines == 9)
        #expect(reader.statistics.firstBadLines.map(\.lineNumber) == [2, 3, 4, 5, 6])
        #expect(reader.statistics.firstBadLines[1].reason == "cut short")
    }

    @Test func aHugeLineIsSkippedWithoutBufferingIt() {
        let huge = "{\"kl\": 1, \"blob\": \"" + String(repeating: "x", count: 10_000) + "\"}"
        let text = "{\"step\": 1, \"kl\": 0.1}\n" + huge + "\n{\"step\": 3, \"kl\": 0.3}\n"
        for chunk in [7, 100, 5000, text.utf8.count] {
            let (samples, reader) = readJSONL(text, chunk: chunk)
            #expect(samples.map(\.step) == [1, 3])
            #expect(reader.statistics.badLines == 1)
            #expect(reader.statistics.firstBadLines.first?.lineNumber == 2)
        }
    }

    @Test func anyChunkingGivesTheSameSamples() {
        var text = ""
        for step in 0..<60 {
            text +=
                "{\"step\": \(step), \"data\": {\"actor/kl_loss\": \(Double(step) * 0.001), \"s\": \"a\\\"b\"}}\r\n"
        }
        let whole = readJSONL(text).samples
        #expect(whole.count == 60)
        for chunk in 1...41 {
            #expect(readJSONL(text, chunk: chunk).samples == whole, "chunks of \(chunk) bytes")
        }
    }

    @Test func aPartialLastLineIsHeldUntilFinished() {
        let text = "{\"step\": 1, \"kl\": 0.1}\n{\"step\": 2, \"kl\": 0.2"
        let held = readJSONL(text, finish: false)
        #expect(held.samples.map(\.step) == [1])
        var reader = held.reader
        var later: [MetricSample] = []
        Array("5}\n".utf8).withUnsafeBytes { reader.consume($0) { later.append($0) } }
        #expect(later == [MetricSample(step: 2, value: 0.25)])
        let finished = readJSONL(text + "5}", finish: true)
        #expect(finished.samples.map(\.step) == [1, 2])
    }

    /// Read to its end, a log whose last line the file ends inside (an object not closed: a writer that
    /// has not flushed the rest) says it as still being written, not as a bad line; a last line that is
    /// no record start is bad as any other. Another stream after it makes the cut line bad.
    @Test func aLastLineTheFileEndsInsideIsHeldNotBad() {
        let text = "{\"step\": 1, \"kl\": 0.1}\n{\"step\": 2, \"kl\": 0.2"
        var (samples, reader) = readJSONL(text)
        #expect(samples.map(\.step) == [1])
        #expect(reader.statistics.badLines == 0)
        #expect(reader.statistics.heldAtEnd == 21)
        #expect(reader.statistics.records == 1)
        Array("{\"step\": 3, \"kl\": 0.3}\n".utf8).withUnsafeBytes {
            reader.consume($0) { samples.append($0) }
        }
        #expect(samples.map(\.step) == [1, 3])
        #expect(reader.statistics.heldAtEnd == 0)
        #expect(reader.statistics.firstBadLines == [BadLine(lineNumber: 2, reason: "cut short")])
        let garbage = readJSONL("{\"step\": 1, \"kl\": 0.1}\nnot json")
        #expect(garbage.reader.statistics.badLines == 1 && garbage.reader.statistics.heldAtEnd == 0)
        let complete = readJSONL("{\"step\": 1, \"kl\": 0.1}")
        #expect(complete.samples.map(\.step) == [1] && complete.reader.statistics.heldAtEnd == 0)
    }

    @Test func escapedQuotesInStringsDoNotEndThem() {
        let line = #"{"note": "say \"kl\": 9 \\", "kl": 0.5, "step": 1}"#
        #expect(readJSONL(line + "\n").samples == [MetricSample(step: 1, value: 0.5)])
    }

    @Test func keysInsideOtherNestedObjectsAreNotTheMetric() {
        let line = #"{"step": 1, "config": {"kl": 9}, "kl": 0.5}"#
        #expect(readJSONL(line + "\n").samples == [MetricSample(step: 1, value: 0.5)])
        let only = #"{"step": 1, "config": {"kl": 9}}"#
        #expect(readJSONL(only + "\n").samples.isEmpty)
    }
}
