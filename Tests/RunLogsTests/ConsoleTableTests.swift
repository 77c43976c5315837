import RunLogs
import Testing

/// stable-baselines3's boxed console tables (`verbose=1`), read by ``ConsoleReader``.
@Suite struct ConsoleTableTests {
    static let table = """
        ------------------------------------------
        | rollout/                |              |
        |    ep_len_mean          | 22.4         |
        | time/                   |              |
        |    total_timesteps      | 2048         |
        | train/                  |              |
        |    approx_kl            | 0.0089       |
        ------------------------------------------

        """

    static func table(step: Int, kl: String?, extra: String = "") -> String {
        var rows = [
            "| rollout/           |            |",
            "|    ep_len_mean     | 22.4       |",
            "| time/              |            |",
            "|    iterations      | \(step / 64)          |",
            "|    total_timesteps | \(step)        |",
        ]
        if let kl {
            rows += ["| train/             |            |", "|    approx_kl       | \(kl)   |"]
        }
        let rule = String(repeating: "-", count: 35)
        return ([rule] + rows + [rule]).joined(separator: "\n") + "\n" + extra
    }

    static func readText(_ text: String, metric: MetricSelection = .automatic) -> (
        samples: [MetricSample], reader: ConsoleReader
    ) {
        ConsoleReaderTests.lines(text, metric: metric)
    }

    @Test func aTableIsOneRecordStepTotalTimesteps() {
        let (samples, reader) = Self.readText(Self.table)
        #expect(samples == [MetricSample(step: 2048, value: 0.0089)])
        #expect(reader.metricKey == "train/approx_kl")
        #expect(reader.statistics.records == 1)
        #expect(reader.statistics.ignoredLines == 0)
        #expect(reader.statistics.badLines == 0)
    }

    /// Piped in (`python train.py | kltop -`), with no name to go by, SB3's output is console output.
    @Test func sb3sOutputIsRecognisedAsConsoleByItsContent() {
        let banner = "Using cpu device\nWrapping the env in a DummyVecEnv.\n"
        for text in [Self.table, banner + Self.table + Self.table] {
            #expect(LogFormat.detect(path: "-", firstBytes: Array(text.utf8)) == .console)
        }
    }

    @Test func anyRowCanBeChosenBySectionAndName() {
        let (samples, reader) = Self.readText(Self.table, metric: .key("rollout/ep_len_mean"))
        #expect(samples == [MetricSample(step: 2048, value: 22.4)])
        #expect(reader.metricKey == "rollout/ep_len_mean")
        #expect(
            Self.readText(Self.table, metric: .key("ep_len_mean")).samples.isEmpty,
            "the key is section + name")
    }

    /// SB3 dumps the first rollout before any `train()`: that table has no KL row.
    @Test func theFirstTableHasNoKLAndIsARecordWithoutIt() {
        let text =
            "Using cpu device\nWrapping the env with a `Monitor` wrapper\n"
            + Self.table(step: 64, kl: nil) + Self.table(step: 128, kl: "0.00412")
            + Self.table(step: 192, kl: "2.85e-05")
        let (samples, reader) = Self.readText(text)
        #expect(
            samples == [MetricSample(step: 128, value: 0.00412), MetricSample(step: 192, value: 2.85e-05)])
        #expect(reader.statistics.records == 3)
        #expect(reader.statistics.ignoredLines == 2)
    }

    @Test func aTableWithoutTimestepsCountsAsTheDictsDo() {
        let text = """
            ---------------------------
            | train/        |         |
            |    approx_kl  | 0.5     |
            ---------------------------
            {'kl': 0.25}

            """
        let (samples, _) = Self.readText(text)
        #expect(samples == [MetricSample(step: 1, value: 0.5)])
        #expect(Self.readText(text, metric: .key("kl")).samples == [MetricSample(step: 1, value: 0.25)])
    }

    /// A key printed without a section (SB3 logs one without `/` as it is).
    @Test func aKeyWithoutSectionIsItsName() {
        let text = "------------------\n| kl    | 0.125  |\n| step  | 7      |\n------------------\n"
        #expect(Self.readText(text).samples == [MetricSample(step: 7, value: 0.125)])
    }

    /// A table broken off (the process died mid-print, or the log was cut) after its KL row: a bad record;
    /// the line that broke it is read as a line of its own.
    @Test func aTableBrokenOffAfterItsKLRowIsBad() {
        let text = """
            ---------------------------
            | time/         |         |
            |    total_timesteps | 64 |
            | train/        |         |
            |    approx_kl  | 0.5     |
            {'kl': 0.25, 'step': 3}
            Traceback (most recent call last):

            """
        let (samples, reader) = Self.readText(text)
        #expect(reader.statistics.badLines == 1)
        #expect(reader.statistics.firstBadLines.first?.lineNumber == 6)
        #expect(reader.statistics.ignoredLines == 5, "the table's 4 other lines, and the traceback")
        #expect(samples == [MetricSample(step: 3, value: 0.25)])
        #expect(reader.metricKey == "kl")
    }

    @Test func aTableBrokenOffBeforeAnyKLRowIsIgnored() {
        let text = "---------------------------\n| time/     |     |\nKeyboardInterrupt\n"
        let (samples, reader) = Self.readText(text)
        #expect(samples.isEmpty)
        #expect(reader.statistics.badLines == 0 && reader.statistics.records == 0)
        #expect(reader.statistics.ignoredLines == 3)
    }

    @Test func aTableOpenAtTheEndIsBadIfItHeldKL() {
        let open = "-----------------------\n| train/    |       |\n|    approx_kl | 0.5 |\n"
        let (samples, reader) = Self.readText(open)
        #expect(samples.isEmpty)
        #expect(reader.statistics.badLines == 1)
    }

    /// A line of dashes and a row-like line outside a table shape are what any script may print.
    @Test func dashesAndBarsElsewhereAreNotRecords() {
        let text = """
            ----------
            Epoch 1 done
            | kl | 0.5 |
            ------------------------
            ------------------------
            | approx_kl | 0.5 | 7 |
            ------------------------

            """
        let (samples, reader) = Self.readText(text)
        #expect(samples.isEmpty)
        #expect(reader.statistics.badLines == 0, "a row of three cells is no row: the table never held KL")
        #expect(reader.statistics.records == 0)
        #expect(reader.statistics.ignoredLines == 7)
    }

    /// Tables a Ray worker printed, with its prefix and colours, and Windows line ends.
    @Test func prefixesColoursAndCRLFAreTakenOff() {
        let text = Self.table.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.isEmpty ? "" : "\u{1B}[36m(Worker pid=7)\u{1B}[0m " + $0
        }.joined(separator: "\r\n")
        #expect(Self.readText(text).samples == [MetricSample(step: 2048, value: 0.0089)])
    }

    @Test func anyChunkingGivesTheSameSamples() {
        let text =
            Self.table(step: 64, kl: nil) + Self.table(step: 128, kl: "0.00412")
            + "{'loss': 1}\n" + Self.table(step: 192, kl: "nan")
        let bytes = Array(text.utf8)
        let whole = Self.readText(text)
        #expect(whole.samples.count == 2 && whole.samples[1].value.isNaN)
        for size in [1, 2, 3, 7, 64] {
            let (samples, reader) = read(ConsoleReader(), bytes, .fixed(size))
            #expect(samples.map(\.step) == whole.samples.map(\.step))
            #expect(reader.statistics == whole.reader.statistics)
        }
    }
}
