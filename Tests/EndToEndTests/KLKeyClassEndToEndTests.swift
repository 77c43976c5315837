import Foundation
import TestSupport
import Testing

/// What `kltop check` says of a run's KL key: that approx KL is the update size, not reference KL; and why a
/// run logs no KL, where its keys show it.
@Suite struct KLKeyClassEndToEndTests {
    static func write(_ lines: [String], named name: String) throws -> URL {
        let directory = try TemporaryDirectory.make("kltop-klkeys")
        let log = directory.appendingPathComponent(name)
        try lines.map { $0 + "\n" }.joined().write(to: log, atomically: true, encoding: .utf8)
        return log
    }

    @Test func approxKLIsSaidToBeTheUpdateSize() throws {
        let log = try Self.write(
            (0..<40).map { "{\"step\": \($0), \"train/approx_kl\": 0.0\($0 % 7 + 1), \"loss\": 0.4}" },
            named: "ppo.jsonl")
        let result = try Kltop.run(["check", log.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.standardError.contains(
                "reading KL from \"train/approx_kl\" (approx KL: the update size, not KL to the reference model)\n"
            ))
        // A reference key is taken before it, and said plainly.
        let both = try Self.write(
            (0..<40).map { "{\"step\": \($0), \"actor/ppo_kl\": 0.5, \"actor/kl_loss\": 0.0\($0 % 7 + 1)}" },
            named: "both.jsonl")
        let reference = try Kltop.run(["check", both.path])
        #expect(
            reference.standardError.contains("reading KL from \"actor/kl_loss\"\n"),
            "\(reference.standardError)")
    }

    /// A real TRL GRPO run with beta 0 (its default): none of its three logs holds KL, and each says why.
    @Test func aTRLGRPORunWithBetaZeroSaysWhyItLogsNoKL() throws {
        let folder = Fixtures.path("experiments/outputs/grpo_beta0.0_seed0")
        let result = try Kltop.run(["check", folder])
        #expect(result.status == 3)
        let reason = "TRL's GRPO logs no kl while beta is 0 (its default): set beta > 0 to log it"
        let lines = result.standardError.split(separator: "\n")
        for log in ["trainer_state.json", "events.out.tfevents", "stdout.log"] {
            #expect(
                lines.contains { $0.contains(log) && $0.contains(reason) }, "\(log): \(result.standardError)")
        }
    }

    @Test func aLogWithOnlyMismatchOrCoefficientKeysSaysWhich() throws {
        let log = try Self.write(
            (0..<10).map { "{\"step\": \($0), \"rollout_corr/kl\": 0.01, \"actor/kl_coef\": 0.001}" },
            named: "verl.jsonl")
        let result = try Kltop.run(["check", log.path])
        #expect(result.status == 3)
        #expect(
            result.standardError.contains(
                "it logs only KL between trainer and inference engine (\"rollout_corr/kl\") and the KL coefficient "
                    + "(\"actor/kl_coef\"), not KL to the reference model"), "\(result.standardError)")
    }

    /// A statistic or a prefixed spelling of a KL key is read without --metric (issue 12): veRL's
    /// `actor/kl_loss/mean`-style keys, a `train/` prefix before a key of the table.
    @Test func aStatisticOfAKLKeyIsReadWithoutNamingIt() throws {
        let mean = try Self.write(
            (0..<40).map { "{\"step\": \($0), \"actor/kl_loss/mean\": 0.0\($0 % 7 + 1), \"kl_coef\": 0.1}" },
            named: "mean.jsonl")
        let result = try Kltop.run(["check", mean.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.standardError.contains("reading KL from \"actor/kl_loss/mean\"\n"),
            "\(result.standardError)")
        let exported = try Kltop.run(["export", "--format", "csv", mean.path])
        #expect(exported.standardOutput.split(separator: "\n").count == 41, "\(exported.standardOutput)")
    }

    /// veRL with its defaults logs only `actor/ppo_kl`: read as update-size KL, with the switches that
    /// would log KL to the reference model.
    @Test func aVeRLRunWithOnlyApproxKLSaysHowToLogReferenceKL() throws {
        let log = try Self.write(
            (0..<40).map {
                "{\"step\": \($0), \"data\": {\"train/actor/ppo_kl\": 0.0\($0 % 7 + 1), \"actor/pg_loss\": 0.1}}"
            }, named: "verl.jsonl")
        let result = try Kltop.run(["check", log.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.standardError.contains(
                "reading KL from \"train/actor/ppo_kl\" (approx KL: the update size, not KL to the reference model; "
                    + "veRL logs KL to the reference model only with actor_rollout_ref.actor.use_kl_loss=True or "
                    + "algorithm.use_kl_in_reward=True)"), "\(result.standardError)")
    }

    /// `--metric` naming a key no run has: every run or log says the key is not there and lists the keys it
    /// has, in the stores too (an MLflow run is no stray file for lacking the key).
    @Test func aMetricKeyNoRunHasIsSaidWithTheKeysEachHas() throws {
        let mlflow = try Kltop.run(["check", "--metric", "nope", Fixtures.path("formats/mlflow")])
        #expect(mlflow.status == 3)
        for run in ["ppo-lr3e-6", "mlflow/ppo-lr3e-6", "grpo/baseline"] {
            #expect(
                mlflow.standardError.contains(
                    "kltop: \(run): no KL samples: key \"nope\" not found in its metrics (keys seen: "),
                "\(run): \(mlflow.standardError)")
        }
        #expect(!mlflow.standardError.contains("not a run log"), "\(mlflow.standardError)")
        let trackio = try Kltop.run(["check", "--metric", "nope", Fixtures.path("formats/trackio")])
        #expect(
            trackio.standardError.contains(
                "kltop: grpo-7b: no KL samples: key \"nope\" not found in 30 records (keys seen: loss, reward, kl)"
            ),
            "\(trackio.standardError)")
        let wandb = try Kltop.run(["check", "--metric", "nope", Fixtures.path("formats/wandb")])
        #expect(
            wandb.standardError.contains(
                "run-grpo01.wandb: key \"nope\" not in its 98 records (keys seen: kl, train/kl, loss); not a run"
            ),
            "\(wandb.standardError)")
    }

    /// prime-rl's metrics.jsonl (its FileMonitor's rows): only `mismatch_kl/all/mean`, and check says so.
    @Test func primeRLsMetricsSayTheyHoldOnlyMismatchKL() throws {
        let result = try Kltop.run(["check", Fixtures.path("formats/textlogs/prime_rl/metrics.jsonl")])
        #expect(result.status == 3)
        #expect(
            result.standardError.contains(
                "it logs only KL between trainer and inference engine (\"mismatch_kl/all/mean\")"),
            "\(result.standardError)")
    }
}
