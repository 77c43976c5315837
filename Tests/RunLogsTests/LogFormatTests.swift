import RunLogs
import TestSupport
import Testing

@Suite struct LogFormatTests {
    static let fixtures: [(String, LogFormat)] = [
        ("tensorboard/single_run/events.out.tfevents.1700000000.fixturehost", .tensorboard),
        ("tensorboard/multi_run/run_b/events.out.tfevents.1700000000.fixturehost.4242.0", .tensorboard),
        ("tensorboard/truncated_tail/events.out.tfevents.1700000000.fixturehost", .tensorboard),
        ("sb3/progress.csv", .csv),
        ("sb3/rewrites/progress.before_rewrite_1.csv", .csv),
        ("lightning/lightning_logs/version_0/metrics.csv", .csv),
        ("rlwatch/rlwatch_logs/metrics.db", .rlwatchStore),
        ("trl/grpo/checkpoint-60/trainer_state.json", .trainerState),
        ("trl/online_dpo/checkpoint-40/trainer_state.json", .trainerState),
        ("console/hf_trainer_tqdm_v5.24.0.log", .console),
        ("console/hf_trainer_tqdm_v4.46.3.log", .console),
        ("console/hf_trainer_printer_v5.24.0.log", .console),
        ("console/verl_ray_color.log", .console),
        ("console/verl_ray_nocolor.log", .console),
        ("console/openrlhf_ray.log", .console),
        ("console/rlwatch_alerts_stderr.log", .console),
        ("../conformance/explosion_verl.jsonl", .jsonl),
        ("../conformance/spike_default.jsonl", .jsonl),
    ]

    @Test(arguments: 0..<18)
    func everyFixtureIsRecognisedFromItsContentAlone(_ index: Int) throws {
        let (file, format) = Self.fixtures[index]
        let bytes = Array(try formatFixture(file).prefix(4096))
        #expect(LogFormat.detect(path: "unnamed", firstBytes: bytes) == format, "\(file)")
        #expect(LogFormat.detect(path: file, firstBytes: bytes) == format, "\(file)")
    }

    @Test func theNameOnlyBreaksTies() {
        #expect(LogFormat.detect(path: "run/events.out.tfevents.1.host", firstBytes: []) == .tensorboard)
        #expect(
            LogFormat.detect(path: "run/events.out.tfevents.1.host", firstBytes: [1, 2, 3]) == .tensorboard)
        #expect(LogFormat.detect(path: "x/trainer_state.json", firstBytes: []) == .trainerState)
        #expect(LogFormat.detect(path: "progress.csv", firstBytes: Array("a,b\n".utf8)) == .csv)
        #expect(LogFormat.detect(path: "notes.txt", firstBytes: Array("a,b\n".utf8)) == .console)
        #expect(LogFormat.detect(path: "run.jsonl", firstBytes: []) == .jsonl)
        #expect(LogFormat.detect(path: "mystery", firstBytes: []) == nil)
        #expect(LogFormat.detect(path: "mystery.bin", firstBytes: [0, 1, 2, 0, 200, 10]) == nil)
        // Mixed content under a JSON Lines name is JSON Lines with a bad line, not console output.
        #expect(
            LogFormat.detect(path: "run.jsonl", firstBytes: Array("{\"kl\": 1}\nTraceback\n".utf8))
                == .jsonl)
        #expect(LogFormat.detect(path: "-", firstBytes: Array("{\"kl\": 1}\nTraceback\n".utf8)) == .console)
        #expect(
            LogFormat.detect(
                path: "a", firstBytes: Array("2023-11-14 22:13:20,123\tINFO x\n(A pid=1) b, c\n".utf8))
                == .console)
    }

    /// A flat JSON Lines log, a veRL one, and the stray lines a real log can hold near its top.
    static func flat(_ steps: Range<Int>) -> [String] { steps.map { "{\"step\": \($0), \"kl\": 0.02}" } }
    static func verl(_ steps: Range<Int>) -> [String] {
        steps.map { "{\"step\": \($0), \"data\": {\"actor/kl_loss\": 0.02, \"actor/entropy\": 1.5}}" }
    }
    static let garbage = "\u{0}\u{FF}\u{FE}\u{80}\u{13}\u{0}{{"
    static let nuls = String(repeating: "\u{0}", count: 300)

    /// One stray line near the top must not change how the whole file is read: whatever the name, a log
    /// whose lines are mostly JSON objects is JSON Lines.
    @Test(arguments: ["run.jsonl", "run.ndjson", "-", "metrics", "train.out"])
    func oneStrayLineDoesNotChangeAJSONLinesLog(_ name: String) {
        let logs: [(String, [String])] = [
            ("garbage at line 3", Self.flat(0..<2) + [Self.garbage] + Self.flat(2..<40)),
            ("NULs at line 3", Self.flat(0..<2) + [Self.nuls + Self.flat(2..<3)[0]] + Self.flat(3..<40)),
            ("NULs alone at line 3", Self.flat(0..<2) + [Self.nuls] + Self.flat(2..<40)),
            ("a banner before veRL's lines", ["starting training"] + Self.verl(0..<40)),
            (
                "a traceback line in a flat log",
                Self.flat(0..<2) + ["Traceback (most recent call last):"] + Self.flat(2..<40)
            ),
        ]
        for (label, lines) in logs {
            let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
            #expect(LogFormat.detect(path: name, firstBytes: Array(bytes.prefix(4096))) == .jsonl, "\(label)")
            for chunking in [Chunking.whole, .fixed(7), .random(seed: 3, maximum: 300)] {
                let (samples, reader) = read(
                    AutoDetectingReader(path: name, metric: .automatic), bytes, chunking)
                #expect(reader.format == .jsonl, "\(label), \(chunking)")
                #expect(samples.count == 40, "\(label), \(chunking)")
                #expect(reader.statistics.badLines == 1, "\(label)")
                #expect(
                    reader.statistics.firstBadLines.first?.lineNumber == (label.contains("banner") ? 1 : 3))
            }
        }
    }

    /// Console output that happens to print a few JSON lines among its text stays console output, and a
    /// file of binary data stays unreadable.
    /// stable-baselines3's `progress.csv` looked at while it is rewritten in place (new rows, a torn one,
    /// old rows a cell short) is still CSV; pandas' `to_csv` leaves the index column's name empty.
    @Test func csvHalfRewrittenOrWithAnUnnamedIndexIsCSV() {
        let header = "time/iterations,train/approx_kl,eval/extra1\n"
        let torn = header + "1,0.02,\n2,0.03,\n3,0.0\n4,0.02\n5,0.03\n"
        #expect(LogFormat.detect(path: "run/progress.csv", firstBytes: Array(torn.utf8)) == .csv)
        #expect(
            LogFormat.detect(path: "-", firstBytes: Array(torn.utf8)) == .console,
            "no name, no benefit of doubt")
        let pandas = ",step,kl\n0,1,0.02\n1,2,0.03\n"
        #expect(LogFormat.detect(path: "metrics", firstBytes: Array(pandas.utf8)) == .csv)
    }

    /// A first look that was wrong (a rewrite half done read as console text, no sample from it) is put
    /// right when the file is read again from its start; a reader that has read samples is kept.
    @Test func aFileReadAgainFromItsStartIsJudgedAgain() {
        var reader = AutoDetectingReader(path: "progress", metric: .automatic)
        var samples: [MetricSample] = []
        let torn = (["a,b,train/approx_kl"] + (0..<20).map { "\($0),x" }).joined(separator: "\n") + "\n"
        Array(torn.utf8).withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        #expect(reader.format == .console && samples.isEmpty)
        reader.restart()
        let csv =
            "step,train/approx_kl\n" + (0..<20).map { "\($0),0.0\($0 % 9 + 1)" }.joined(separator: "\n")
            + "\n"
        Array(csv.utf8).withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        #expect(reader.format == .csv && samples.count == 20)
        // Read again, the same CSV is recognised and not read twice; a torn look now keeps the CSV reader.
        reader.restart()
        Array(torn.utf8).withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        reader.restart()
        Array(csv.utf8).withUnsafeBytes { reader.consume($0) { samples.append($0) } }
        #expect(reader.format == .csv && samples.count == 20)
    }

    @Test func consoleLogsWithSomeJSONLinesStayConsole() {
        let text = (0..<12).map { "INFO step \($0): loading shard \($0) of 12" }
        let mixed = Array(text[0..<5]) + Self.flat(0..<3) + Array(text[5...])
        let bytes = Array((mixed.joined(separator: "\n") + "\n").utf8)
        for name in ["train.log", "-", "output"] {
            #expect(LogFormat.detect(path: name, firstBytes: bytes) == .console, "\(name)")
            let (_, reader) = read(AutoDetectingReader(path: name, metric: .automatic), bytes, .fixed(5))
            #expect(reader.format == .console, "\(name)")
        }
        let binary = [UInt8](repeating: 0, count: 300).flatMap { _ in [0, 1, 2, 0, 200, 10] as [UInt8] }
        #expect(LogFormat.detect(path: "blob", firstBytes: binary) == nil)
    }

    @Test func inputFormatNames() {
        #expect(
            LogFormat.argumentNames == [
                "jsonl", "csv", "tensorboard", "console", "trainer-state", "rlwatch", "wandb", "swanlab",
                "mlflow", "trackio",
            ])
        for format in LogFormat.allCases { #expect(LogFormat(argument: format.argumentName) == format) }
        #expect(LogFormat(argument: "TensorBoard") == .tensorboard)
        #expect(LogFormat(argument: "parquet") == nil)
    }

    @Test func readersForEachFormat() {
        #expect(LogFormat.tensorboard.makeReader(metric: .automatic) is TensorBoardEventReader)
        #expect(LogFormat.csv.makeReader(metric: .automatic) is CSVReader)
        #expect(LogFormat.console.makeReader(metric: .automatic) is ConsoleReader)
        #expect(LogFormat.trainerState.makeReader(metric: .automatic) is TrainerStateReader)
        #expect(LogFormat.swanlab.makeReader(metric: .automatic) is SwanlabRunFileReader)
        #expect(LogFormat.jsonl.makeReader(metric: .key("x")).metricKey == "x")
        var store = LogFormat.rlwatchStore.makeReader(metric: .automatic)
        Array("SQLite format 3\0".utf8).withUnsafeBytes {
            store.consume($0) { _ in Issue.record("no samples") }
        }
        #expect(store.statistics.badLines == 1)
    }

    @Test func tensorBoardRunDirectories() throws {
        let runs = try TensorBoardRunDirectory.runs(under: Fixtures.path("formats/tensorboard"))
        #expect(
            runs.map { $0.directory.split(separator: "/").last.map(String.init) ?? "" } == [
                "run_a", "run_b", "single_run", "split_run", "tb_summary_writer", "tensor_content_handbuilt",
                "truncated_tail",
            ])
        let split = try #require(runs.first { $0.directory.hasSuffix("split_run") })
        #expect(
            split.eventFiles.map { $0.split(separator: "/").last.map(String.init) ?? "" } == [
                "events.out.tfevents.1700000000.fixturehost", "events.out.tfevents.1700000600.fixturehost",
            ])
        #expect(throws: LogFileError.self) { try TensorBoardRunDirectory.runs(under: "/nonexistent/kltop") }
    }
}
