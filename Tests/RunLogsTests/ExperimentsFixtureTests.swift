import Foundation
import RunLogs
import TestSupport
import Testing

/// The bytes of a file under Tests/Fixtures/experiments.
func experimentsFixture(_ relative: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("experiments/" + relative))))
}

/// Tests/Fixtures/experiments/expected.json: one entry per training run, with its KL series as the
/// full-precision source holds it. The values are decimal text, read by `Double(_:)` (strtod, exact):
/// Foundation's JSONSerialization on Linux reads some doubles one ulp off.
struct ExperimentRun: Sendable, CustomStringConvertible {
    var folder: String
    var file: String?
    var klKey: String?
    var source: String?
    var steps: [Int64]
    var values: [Double]

    var description: String { folder + (file.map { "/" + $0 } ?? "") }
    var series: [MetricSample] { zip(steps, values).map { MetricSample(step: $0, value: $1) } }

    nonisolated(unsafe) static let all: [ExperimentRun] = {
        guard
            let data = try? Data(
                contentsOf: URL(fileURLWithPath: Fixtures.path("experiments/expected.json"))),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let runs = object["runs"] as? [[String: Any]]
        else { return [] }
        return runs.map { run in
            ExperimentRun(
                folder: run["folder"] as? String ?? "", file: run["file"] as? String,
                klKey: run["kl_key"] as? String, source: run["source"] as? String,
                steps: (run["steps"] as? [NSNumber] ?? []).map(\.int64Value),
                values: (run["values"] as? [String] ?? []).compactMap(Double.init))
        }
    }()

    static func named(_ folder: String) throws -> ExperimentRun {
        try #require(all.first { $0.folder == "outputs/" + folder })
    }
}

/// The experiments folder that real training runs wrote (make_experiments.py): each run's sources give the
/// same KL series, and the series expected.json holds.
@Suite struct ExperimentsFixtureTests {
    static let sb3Runs = ["sb3_ppo_cartpole_lr3e-4", "sb3_ppo_cartpole_lr1e-3"]
    static let grpoRunsWithKL = ["grpo_beta0.04_seed0", "grpo_beta0.04_seed1"]

    @Test func expectedJSONHasEveryRun() {
        #expect(ExperimentRun.all.count == 8)
        #expect(
            ExperimentRun.all.allSatisfy { $0.values.count == $0.steps.count },
            "every value reads as a number")
        #expect(ExperimentRun.all.filter { $0.klKey == nil }.map(\.folder) == ["outputs/grpo_beta0.0_seed0"])
    }

    @Test(arguments: sb3Runs)
    func sb3sCSVHoldsTheExpectedSeries(_ run: String) throws {
        let expected = try ExperimentRun.named(run)
        let (samples, reader) = read(CSVReader(), try experimentsFixture("outputs/\(run)/progress.csv"))
        #expect(reader.metricKey == "train/approx_kl")
        #expect(samples == expected.series)
        #expect(samples.count == 5 && samples.first?.step == 128, "the first rollout's row has no KL")
    }

    /// SB3's progress.json has the same keys as its progress.csv: its step is `time/total_timesteps` too.
    /// approx_kl is a numpy float32 there; the CSV holds `str()` of it (`2.2538006e-05`), the JSON the
    /// double it widens to (`2.253800630569458e-05`): the same float32.
    @Test(arguments: sb3Runs)
    func sb3sProgressJSONAndCSVGiveTheSameSeries(_ run: String) throws {
        let csv = read(CSVReader(), try experimentsFixture("outputs/\(run)/progress.csv")).samples
        let bytes = try experimentsFixture("outputs/\(run)/progress.json")
        #expect(LogFormat.detect(path: "progress.json", firstBytes: bytes) == .jsonl)
        let (json, reader) = read(JSONLReader(), bytes)
        #expect(reader.metricKey == "train/approx_kl")
        #expect(json.map(\.step) == csv.map(\.step))
        #expect(json.map { Float($0.value) } == csv.map { Float($0.value) })
        #expect(reader.statistics.records == 6 && reader.statistics.badLines == 0)
    }

    /// SB3's console tables (`verbose=1`) give the series of its progress.csv. approx_kl, a float32, is
    /// printed with `str()` in full; SB3's float64 values have three significant digits only.
    @Test(arguments: sb3Runs)
    func sb3sConsoleTablesGiveTheCSVsSeries(_ run: String) throws {
        let csvBytes = try experimentsFixture("outputs/\(run)/progress.csv")
        let bytes = try experimentsFixture("outputs/\(run)/stdout.log")
        #expect(LogFormat.detect(path: "stdout.log", firstBytes: bytes) == .console)
        let (samples, reader) = read(ConsoleReader(), bytes)
        #expect(reader.metricKey == "train/approx_kl")
        #expect(samples == read(CSVReader(), csvBytes).samples)
        #expect(reader.statistics.records == 6)
        #expect(reader.statistics.badLines == 0)

        let loss = read(CSVReader(metric: .key("train/loss")), csvBytes).samples
        let printed = read(ConsoleReader(metric: .key("train/loss")), bytes).samples
        #expect(loss.count == 5)
        #expect(printed.map(\.step) == loss.map(\.step))
        #expect(printed.map(\.value) == loss.map { Double(String(format: "%.3g", $0.value))! })
    }

    @Test(arguments: sb3Runs)
    func sb3sConsoleTablesReadTheSameInAnyPieces(_ run: String) throws {
        let bytes = try experimentsFixture("outputs/\(run)/stdout.log")
        let whole = read(ConsoleReader(), bytes)
        for seed in 0..<4 as Range<UInt64> {
            let pieces = read(ConsoleReader(), bytes, .random(seed: seed, maximum: seed < 2 ? 7 : 300))
            #expect(pieces.samples == whole.samples)
            #expect(pieces.reader.statistics == whole.reader.statistics)
        }
    }

    /// The events SB3's TensorBoard output wrote: step `num_timesteps`, float32 values.
    @Test(arguments: sb3Runs)
    func sb3sEventsGiveTheCSVsSeriesAsFloat32(_ run: String) throws {
        let folder = Fixtures.path("experiments/outputs/" + run)
        let events = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder).first {
                $0.hasPrefix("events.out.tfevents.")
            })
        let (samples, reader) = read(
            TensorBoardEventReader(), try experimentsFixture("outputs/\(run)/\(events)"))
        let csv = read(CSVReader(), try experimentsFixture("outputs/\(run)/progress.csv")).samples
        #expect(reader.metricKey == "train/approx_kl")
        #expect(samples.map(\.step) == csv.map(\.step))
        #expect(samples.map { Float($0.value) } == csv.map { Float($0.value) })
    }

    @Test(arguments: grpoRunsWithKL)
    func grposCheckpointsHoldTheExpectedSeries(_ run: String) throws {
        let expected = try ExperimentRun.named(run)
        let source = try #require(expected.source)
        #expect(source == "checkpoint-30/trainer_state.json")
        let (samples, reader) = read(TrainerStateReader(), try experimentsFixture("outputs/\(run)/\(source)"))
        #expect(reader.metricKey == "kl")
        #expect(samples == expected.series)
        #expect(samples.map(\.step) == Array(1...30))
        let first = read(
            TrainerStateReader(), try experimentsFixture("outputs/\(run)/checkpoint-15/trainer_state.json"))
        #expect(
            first.samples == Array(expected.series.prefix(15)), "the earlier checkpoint holds the first 15")
    }

    /// transformers 5 prints every float `f"{v:.4g}"`; the dict lines carry no step, so the step is their
    /// count, which is the global step with `logging_steps=1`.
    @Test(arguments: grpoRunsWithKL)
    func grposConsoleGivesTheSeriesToFourDigits(_ run: String) throws {
        let expected = try ExperimentRun.named(run)
        let (samples, reader) = read(ConsoleReader(), try experimentsFixture("outputs/\(run)/stdout.log"))
        #expect(reader.metricKey == "kl")
        #expect(samples.map(\.step) == expected.steps)
        #expect(samples.map(\.value) == expected.values.map { Double(String(format: "%.4g", $0))! })
        #expect(reader.statistics.badLines == 0)
    }

    /// TRL's TensorBoard callback: `runs/<date>_<host>/events…`, tag `train/kl`, float32.
    @Test(arguments: grpoRunsWithKL)
    func grposEventsGiveTheSeriesAsFloat32(_ run: String) throws {
        let expected = try ExperimentRun.named(run)
        let path =
            "outputs/\(run)/runs/Dec07_00-00-00_fixturehost/events.out.tfevents.1765065600.fixturehost.4242.0"
        let (samples, reader) = read(TensorBoardEventReader(), try experimentsFixture(path))
        #expect(reader.metricKey == "train/kl")
        #expect(samples.map(\.step) == expected.steps)
        #expect(samples.map { Float($0.value) } == expected.values.map { Float($0) })
    }

    /// With `beta=0.0` TRL computes and logs no KL: none of the run's sources has a KL key.
    @Test func grpoWithoutBetaHasNoKLAnywhere() throws {
        let run = "outputs/grpo_beta0.0_seed0"
        let state = read(
            TrainerStateReader(), try experimentsFixture(run + "/checkpoint-30/trainer_state.json"))
        let console = read(ConsoleReader(), try experimentsFixture(run + "/stdout.log"))
        let events = read(
            TensorBoardEventReader(),
            try experimentsFixture(
                run + "/runs/Dec07_00-00-00_fixturehost/events.out.tfevents.1765065600.fixturehost.4242.0"))
        for (name, samples, key) in [
            ("trainer_state", state.samples, state.reader.metricKey),
            ("console", console.samples, console.reader.metricKey),
            ("events", events.samples, events.reader.metricKey),
        ] {
            #expect(samples.isEmpty && key == nil, "\(name)")
        }
        #expect(state.reader.statistics.records >= 30)
        #expect(console.reader.statistics.records == 31, "30 training dicts and the summary")
    }

    @Test func lightningsCSVLoggerHoldsTheExpectedSeries() throws {
        let expected = try ExperimentRun.named("lightning_run")
        let (samples, reader) = read(
            CSVReader(), try experimentsFixture("outputs/lightning_run/lightning_logs/version_0/metrics.csv"))
        #expect(reader.metricKey == "kl")
        #expect(samples == expected.series)
        #expect(samples.map(\.step) == Array(0..<30))
    }

    @Test(arguments: ["qwen2_7b_grpo_kl0.001.jsonl", "qwen2_7b_grpo_kl0.01.jsonl"])
    func verlsFileLoggerHoldsTheExpectedSeries(_ file: String) throws {
        let expected = try #require(ExperimentRun.all.first { $0.file == file })
        let (samples, reader) = read(JSONLReader(), try experimentsFixture("outputs/verl_project/" + file))
        #expect(reader.metricKey == "actor/kl_loss")
        #expect(samples == expected.series)
        #expect(samples.map(\.step) == Array(1...30))
    }
}
