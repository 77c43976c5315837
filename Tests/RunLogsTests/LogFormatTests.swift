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
        #expect(
            LogFormat.detect(path: "run.jsonl", firstBytes: Array("{\"kl\": 1}\nTraceback\n".utf8))
                == .console)
        #expect(
            LogFormat.detect(
                path: "a", firstBytes: Array("2023-11-14 22:13:20,123\tINFO x\n(A pid=1) b, c\n".utf8))
                == .console)
    }

    @Test func inputFormatNames() {
        #expect(
            LogFormat.argumentNames == ["jsonl", "csv", "tensorboard", "console", "trainer-state", "rlwatch"])
        for format in LogFormat.allCases { #expect(LogFormat(argument: format.argumentName) == format) }
        #expect(LogFormat(argument: "TensorBoard") == .tensorboard)
        #expect(LogFormat(argument: "parquet") == nil)
    }

    @Test func readersForEachFormat() {
        #expect(LogFormat.tensorboard.makeReader(metric: .automatic) is TensorBoardEventReader)
        #expect(LogFormat.csv.makeReader(metric: .automatic) is CSVReader)
        #expect(LogFormat.console.makeReader(metric: .automatic) is ConsoleReader)
        #expect(LogFormat.trainerState.makeReader(metric: .automatic) is TrainerStateReader)
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
