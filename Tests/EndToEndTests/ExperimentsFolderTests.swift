import Foundation
import TestSupport
import Testing

/// `kltop outputs/` on a folder written by the frameworks themselves (Tests/Fixtures/experiments: TRL GRPO
/// output folders with checkpoints, TensorBoard events and console output; stable-baselines3 log folders
/// with all four of its outputs; Lightning's `lightning_logs/version_0/`; veRL's
/// `<project>/<experiment>.jsonl`): one run per training run, named after it, read from its full-precision
/// log, with the others listed and the logs without KL left out.
@Suite struct ExperimentsFolderTests {
    static let outputs = Fixtures.path("experiments/outputs")

    struct Expected {
        var name: String
        var steps: [Int64]
        var values: [String]
    }

    /// The runs of expected.json, by the name kltop gives them: the folder's, or veRL's experiment file's.
    static func expected() throws -> [String: Expected] {
        let url = URL(fileURLWithPath: Fixtures.path("experiments/expected.json"))
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var runs: [String: Expected] = [:]
        for run in try #require(document["runs"] as? [[String: Any]]) {
            let steps = (run["steps"] as? [Int] ?? []).map(Int64.init)
            guard !steps.isEmpty else { continue }  // the run that logs no KL
            let folder = try #require(run["folder"] as? String)
            var name = String(folder.split(separator: "/").last!)
            if let file = run["file"] as? String { name = String(file.dropLast(".jsonl".count)) }
            runs[name] = Expected(name: name, steps: steps, values: run["values"] as? [String] ?? [])
        }
        return runs
    }

    @Test func exportGivesOneRunPerTrainingRunWithItsFullPrecisionSeries() throws {
        let result = try Kltop.run(["export", Self.outputs])
        #expect(result.status == 0, "\(result.standardError)")
        var series: [String: [(step: Int64, value: Double)]] = [:]
        for line in result.standardOutput.split(separator: "\n") {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let run = try #require(object["run"] as? String)
            // The value as printed, read with Double(_:): Foundation's JSON parser on Linux can be one
            // unit in the last place off.
            let printed = try #require(line.range(of: "\"value\": ")).upperBound
            let value = try #require(Double(line[printed...].dropLast()))
            series[run, default: []].append((Int64(try #require(object["step"] as? Int)), value))
        }
        let expected = try Self.expected()
        #expect(Set(series.keys) == Set(expected.keys), "\(series.keys.sorted())")
        for (name, run) in expected {
            let got = series[name] ?? []
            #expect(got.map(\.step) == run.steps, "\(name)")
            // Exact doubles, as the full-precision log holds them (SB3's progress.csv holds float32s'
            // shortest decimals, and so does what kltop reads).
            #expect(got.map(\.value) == run.values.map { Double($0)! }, "\(name)")
        }
        // The run that logs no KL (GRPO with beta 0) is no run; its logs are said to hold none.
        #expect(!series.keys.contains { $0.contains("beta0.0_") })
        #expect(result.standardError.contains("grpo_beta0.0_seed0/stdout.log: no KL in its"))
        #expect(!result.standardError.contains("waiting"))
    }

    @Test func checkNamesTheSameRunsAndSaysWhichLogEachIsReadFrom() throws {
        let result = try Kltop.run(["check", Self.outputs])
        let summaries = result.standardOutput.split(separator: "\n").filter { $0.contains(" KL samples (") }
        let names = summaries.map { String($0.prefix { $0 != ":" }) }
        #expect(Set(names) == Set(try Self.expected().keys), "\(result.standardOutput)")
        #expect(names.count == Set(names).count, "no run twice")
        let error = result.standardError
        #expect(
            error.contains(
                "kltop: grpo_beta0.04_seed0: read from checkpoint-*/trainer_state.json; 2 other sources"))
        // All four of stable-baselines3's outputs, named from the run's folder; progress.json and
        // progress.csv hold the same doubles, and the CSV is taken (equal counts: the newer, or the first).
        #expect(error.contains("kltop: sb3_ppo_cartpole_lr3e-4: read from progress."))
        #expect(
            error.contains(
                "3 other sources not used: events.out.tfevents.1765065600.fixturehost.4242.0, progress."))
        #expect(
            error.contains(
                "grpo_beta0.04_seed0: read from checkpoint-*/trainer_state.json; 2 other sources not used: runs/Dec07_00-00-00_fixturehost/events"
            ))
    }
}
