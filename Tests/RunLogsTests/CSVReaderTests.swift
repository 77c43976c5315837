import RunLogs
import TestSupport
import Testing

@Suite struct CSVReaderTests {
    static func csv(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func stableBaselines3ProgressCSV() throws {
        let entry = FormatExpectations.entry("sb3/progress.csv")
        let (samples, reader) = read(CSVReader(), try formatFixture("sb3/progress.csv"))
        #expect(reader.metricKey == entry["kl_key"] as? String)
        #expect(reader.statistics.records == entry["rows"] as? Int)
        #expect(reader.statistics.badLines == 0 && reader.statistics.missingValues == 0)
        let present = try #require(entry["kl_present_for_iterations"] as? [Int])
        let iterations = present[0]...present[1]
        #expect(samples.map(\.step) == iterations.map { Int64($0 * 2048) })
        let spike = (entry["spike_step"] as? [String: Int])?["time/iterations"]
        #expect(samples.map(\.value) == iterations.map { klAt($0, spike: spike) })
        #expect(
            samples.first { $0.value == 5 }?.step
                == Int64((entry["spike_step"] as? [String: Int])?["time/total_timesteps"] ?? -1))
    }

    @Test func lightningMetricsCSV() throws {
        let entry = FormatExpectations.entry("lightning/lightning_logs/version_0/metrics.csv")
        let (samples, reader) = read(
            CSVReader(), try formatFixture("lightning/lightning_logs/version_0/metrics.csv"))
        #expect(reader.metricKey == entry["kl_key"] as? String)
        let steps = try #require(FormatExpectations.steps(entry))
        #expect(samples.map(\.step) == steps.map(Int64.init))
        for sample in samples {
            let expected = klAt(Int(sample.step), spike: FormatExpectations.spike(entry))
            #expect(Float(sample.value) == Float(expected) && abs(sample.value - expected) < 1e-6)
        }
        #expect(reader.statistics.records == 66, "60 train rows and 2 epoch-end rows per epoch")
        #expect(reader.statistics.badLines == 0 && reader.statistics.missingValues == 0)
    }

    /// The states a follower sees: each state before a header rewrite, then the final file.
    static func rewriteHistory(_ states: [String], final: String) throws -> [[UInt8]] {
        try states.map(formatFixture) + [formatFixture(final)]
    }

    static let histories: [(states: [String], final: String)] = [
        (
            ["sb3/rewrites/progress.before_rewrite_1.csv", "sb3/rewrites/progress.before_rewrite_2.csv"],
            "sb3/progress.csv"
        ),
        (
            [
                "lightning/rewrites/metrics.before_rewrite_1.csv",
                "lightning/rewrites/metrics.before_rewrite_2.csv",
            ],
            "lightning/lightning_logs/version_0/metrics.csv"
        ),
    ]

    @Test(arguments: 0..<2)
    func followingTheRealRewriteHistoryEmitsEveryRowOnce(_ which: Int) throws {
        let history = try Self.rewriteHistory(
            Self.histories[which].states, final: Self.histories[which].final)
        let once = read(CSVReader(), history.last!)
        #expect(once.samples.count > 30)
        for (index, state) in history.dropLast().enumerated() {
            #expect(
                !history.last!.starts(with: state),
                "state \(index + 1) is not a prefix: the file really was rewritten")
        }
        // The follower read each state whole, then the writer rewrote the file.
        var reader = CSVReader()
        var samples: [MetricSample] = []
        for (index, state) in history.enumerated() {
            if index > 0 { reader.restart() }
            feed(&reader, state, .random(seed: UInt64(index), maximum: 40), into: &samples)
        }
        reader.finish { samples.append($0) }
        #expect(samples == once.samples)
        #expect(reader.statistics.records == once.reader.statistics.records)
        #expect(reader.statistics.badLines == 0)
    }

    @Test(arguments: 0..<2)
    func aRewriteCaughtAtAnyPointLosesAndRepeatsNothing(_ which: Int) throws {
        let history = try Self.rewriteHistory(
            Self.histories[which].states, final: Self.histories[which].final)
        let expected = read(CSVReader(), history.last!).samples
        // The follower had read only a prefix of each state (its last row maybe half written) when the
        // rewrite happened; then it reads a prefix of the rewritten file (Lightning truncates, then writes),
        // and the rest arrives as an extension.
        for cut in stride(from: 0, to: history[1].count, by: 7) {
            var reader = CSVReader()
            var samples: [MetricSample] = []
            feed(&reader, Array(history[0]), into: &samples)
            reader.restart()
            feed(&reader, Array(history[1][..<cut]), into: &samples)
            feed(&reader, Array(history[1][cut...]), into: &samples)
            reader.restart()
            let finalCut = min(cut * 3, history[2].count)
            feed(&reader, Array(history[2][..<finalCut]), .fixed(13), into: &samples)
            feed(&reader, Array(history[2][finalCut...]), into: &samples)
            reader.finish { samples.append($0) }
            #expect(samples == expected, "cut at \(cut)")
        }
    }

    @Test func aReplacedFileIsReadFromWhereItDiffers() {
        let before = Self.csv("step,kl\n0,0.1\n1,0.2\n2,0.3\n")
        let after = Self.csv("step,kl\n0,0.1\n1,0.25\n2,0.3\n3,0.4\n")
        var (samples, reader) = read(CSVReader(), before, finish: false)
        reader.restart()
        feed(&reader, after, into: &samples)
        #expect(samples.map(\.value) == [0.1, 0.2, 0.3, 0.25, 0.3, 0.4])
    }

    @Test func aFileRewrittenWithReorderedColumnsSkipsItsOldRows() {
        let before = Self.csv("step,kl\r\n0,0.1\r\n1,0.2\r\n")
        let after = Self.csv("extra,kl,step\r\n,0.1,0\r\n,0.2,1\r\n9,0.3,2\r\n")
        var (samples, reader) = read(CSVReader(), before, finish: false)
        reader.restart()
        feed(&reader, after, into: &samples)
        #expect(
            samples == [.init(step: 0, value: 0.1), .init(step: 1, value: 0.2), .init(step: 2, value: 0.3)])
    }

    @Test func raggedRowsAreBadAndReadingGoesOn() {
        let text = Self.csv("step,kl,loss\n1,0.1,3\n2,0.2\n3,0.3,3,4\n4,0.4,3\n5,0.5,")
        let (samples, reader) = read(CSVReader(), text)
        #expect(samples.map(\.step) == [1, 4, 5])
        #expect(reader.statistics.badLines == 2)
        #expect(reader.statistics.firstBadLines.map(\.lineNumber) == [3, 4])
        #expect(reader.statistics.firstBadLines.first?.reason == "2 cells, the header has 3")
    }

    @Test func quotedCellsCRLFAndAByteOrderMark() {
        let text =
            "\u{FEFF}\"step\",\"note, with comma\",\"kl\"\r\n1,\"a \"\"quoted\"\" note\",\"0.5\"\r\n2,\"two\nlines\",0.25\r\n3,x, 0.125 \r\n"
        let (samples, reader) = read(CSVReader(), Self.csv(text))
        #expect(reader.metricKey == "kl")
        #expect(
            samples == [
                .init(step: 1, value: 0.5), .init(step: 2, value: 0.25), .init(step: 3, value: 0.125),
            ])
        #expect(reader.statistics.badLines == 0)
    }

    /// Found by fuzzing: a chunk that ended just after a newline inside a quoted cell lost the record's
    /// beginning.
    @Test func aChunkEndingJustAfterANewlineInsideQuotes() {
        let text = Self.csv("step,note,kl\n1,\"two\nlines\",0.25\n")
        let (samples, reader) = read(CSVReader(), text, .fixed("step,note,kl\n1,\"two\n".utf8.count))
        #expect(samples == [MetricSample(step: 1, value: 0.25)])
        #expect(reader.statistics.badLines == 0)
    }

    /// Found by fuzzing: a step cell holding a lone quote crashed the reader.
    @Test func aLoneQuoteInTheStepColumnIsABadRow() {
        let (samples, reader) = read(CSVReader(), Self.csv("step,kl\n \",\"0.5\n1,0.25\n"))
        #expect(samples == [MetricSample(step: 1, value: 0.25)])
        #expect(reader.statistics.firstBadLines.map(\.reason) == ["the step is not an integer"])
    }

    @Test func sparseRowsNonNumbersAndNonFiniteValues() {
        let text = Self.csv("step,kl\n1,\n2,nan\n3,inf\n4,-inf\n5,None\n6,0.5\n\n")
        let (samples, reader) = read(CSVReader(), text)
        #expect(samples.map(\.step) == [2, 3, 4, 6])
        #expect(samples[0].value.isNaN && samples[1].value == .infinity && samples[2].value == -.infinity)
        #expect(reader.statistics.missingValues == 1 && reader.statistics.records == 6)
    }

    @Test func stepColumnsByNameOrTheRowOrdinal() {
        #expect(read(CSVReader(), Self.csv("kl,loss\n0.1,1\n0.2,1\n")).samples.map(\.step) == [0, 1])
        #expect(read(CSVReader(), Self.csv("_step,global_step,kl\n7,70,0.1\n")).samples.map(\.step) == [70])
        #expect(
            read(CSVReader(), Self.csv("trainer/global_step,kl\n5.0,0.1\n,0.2\n")).samples.map(\.step) == [
                5, 1,
            ])
        let bad = read(CSVReader(), Self.csv("step,kl\nabc,0.1\n"))
        #expect(bad.samples.isEmpty && bad.reader.statistics.badLines == 1)
    }

    @Test func metricOverrideAndAbsentKey() {
        let text = Self.csv("step,kl,my/kl\n1,0.1,0.7\n")
        #expect(read(CSVReader(metric: .key("my/kl")), text).samples.map(\.value) == [0.7])
        let absent = read(CSVReader(metric: .key("nope")), text)
        #expect(absent.samples.isEmpty && absent.reader.statistics.records == 1)
        let none = read(CSVReader(), Self.csv("step,loss\n1,2\n"))
        #expect(none.reader.metricKey == nil && none.reader.statistics.records == 1)
    }

    @Test func anyChunkingGivesTheSameSamples() throws {
        let bytes = try formatFixture("lightning/lightning_logs/version_0/metrics.csv")
        let whole = read(CSVReader(), bytes).samples
        for seed in 0..<20 as Range<UInt64> {
            #expect(
                read(CSVReader(), bytes, .random(seed: seed, maximum: seed < 10 ? 8 : 300)).samples == whole)
        }
        #expect(read(CSVReader(), bytes, .fixed(1)).samples == whole)
    }

    @Test func aPartialLastRowIsHeldUntilFinished() {
        var (samples, reader) = read(CSVReader(), Self.csv("step,kl\n1,0.1\n2,0.2"), finish: false)
        #expect(samples.map(\.step) == [1])
        reader.finish { samples.append($0) }
        #expect(samples.map(\.step) == [1, 2])
    }

    @Test func garbageNeverCrashes() {
        var generator = SeededGenerator(seed: 11)
        for length in [1, 10, 1000, 20_000] {
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var reader = CSVReader(maxRecordBytes: 4096)
            var samples: [MetricSample] = []
            feed(
                &reader, Self.csv("step,kl\n1,0.5\n") + garbage + Self.csv("\n2,0.25\n"),
                .random(seed: 1, maximum: 100), into: &samples)
            reader.finish { samples.append($0) }
            #expect(samples.first == MetricSample(step: 1, value: 0.5))
        }
        let unbalanced =
            Self.csv("step,kl\n1,\"0.5\n") + Array(repeating: UInt8(ascii: "x"), count: 5000)
            + Self.csv("\n2,0.25\n")
        var reader = CSVReader(maxRecordBytes: 1000)
        var samples: [MetricSample] = []
        feed(&reader, unbalanced, .fixed(333), into: &samples)
        #expect(
            samples == [MetricSample(step: 2, value: 0.25)],
            "an unbalanced quote costs one record, not the file")
        #expect(reader.statistics.badLines == 1)
    }
}
