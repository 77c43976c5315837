import TestSupport
import Testing

@testable import RunLogs

/// The automatic choice of the KL series past the loggers' prefixes and statistic suffixes (issue 12): a log
/// whose only KL key is `actor/kl_loss/mean` or `train/actor/ppo_kl` has a series, in every format; an alias
/// as listed wins over a spelling of it; reference KL, however spelled, wins over update-size KL; a mismatch
/// or coefficient key is never chosen, however spelled.
@Suite struct AutomaticKLChoiceTests {
    /// Every reader that chooses among keys, given one record (or row, or event) holding `keys` with the
    /// values 1, 2, 3… in order at step 7: the key chosen and the value read.
    static func chosen(_ keys: [String]) -> [(format: String, key: String?, value: Double?)] {
        let values = keys.indices.map { Double($0 + 1) }
        var results: [(String, String?, Double?)] = []
        func add<Reader: SampleReader>(_ format: String, _ reader: Reader, _ bytes: [UInt8]) {
            let (samples, reader) = read(reader, bytes)
            results.append((format, reader.metricKey, samples.first?.value))
        }
        let pairs = zip(keys, values)
        let json = "{\"step\": 7, " + pairs.map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}\n"
        add("jsonl", JSONLReader(), Array(json.utf8))
        let verl =
            "{\"step\": 7, \"data\": {" + pairs.map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}}\n"
        add("jsonl data", JSONLReader(), Array(verl.utf8))
        let csv =
            "step," + keys.joined(separator: ",") + "\n7," + values.map { "\($0)" }.joined(separator: ",")
        add("csv", CSVReader(), Array((csv + "\n").utf8))
        let console = "step:7 - " + pairs.map { "\($0):\($1)" }.joined(separator: " - ") + "\n"
        add("console", ConsoleReader(), Array(console.utf8))
        let tensorBoard = TFRecordEncoding.file(scalars: pairs.map { (7, $0, Float($1)) })
        add("tensorboard", TensorBoardEventReader(), tensorBoard)
        let wandb = WandbLogEncoding.file([
            WandbLogEncoding.history(pairs.map { (key: [$0], json: "\($1)") }, step: 7)
        ])
        add("wandb", WandbTransactionLogReader(), wandb)
        let swanlab = SwanlabLogEncoding.file(pairs.map { SwanlabLogEncoding.scalar($0, step: 7, $1) })
        add("swanlab", SwanlabRunFileReader(), swanlab)
        return results
    }

    static func expectChosen(
        _ keys: [String], _ wanted: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let value = Double(keys.firstIndex(of: wanted)! + 1)
        for result in chosen(keys) {
            #expect(result.key == wanted, "\(result.format): \(keys)", sourceLocation: sourceLocation)
            #expect(result.value == value, "\(result.format): \(keys)", sourceLocation: sourceLocation)
        }
    }

    @Test func aStatisticOrAPrefixedKeyIsChosenWhenItIsTheOnlyKL() {
        for key in [
            "actor/kl_loss/mean", "train/actor/ppo_kl", "train/actor/kl_loss/mean",
            "actor/reward_kl_penalty/avg",
            "eval/kl/mean", "ppo_actor/update/approx_kl", "kl/max",
        ] {
            Self.expectChosen(["loss", key, "entropy"], key)
        }
    }

    @Test func anAliasAsListedWinsOverItsOwnStatistic() {
        Self.expectChosen(["actor/kl_loss/mean", "actor/kl_loss"], "actor/kl_loss")
        Self.expectChosen(["actor/kl_loss", "actor/kl_loss/max"], "actor/kl_loss")
        Self.expectChosen(["train/kl/mean", "train/kl"], "train/kl")
    }

    @Test func referenceKLHoweverSpelledWinsOverUpdateSizeKL() {
        Self.expectChosen(["actor/ppo_kl", "actor/kl_loss/mean"], "actor/kl_loss/mean")
        Self.expectChosen(["train/actor/kl_loss", "approx_kl"], "train/actor/kl_loss")
        // Training before evaluation, within a class.
        Self.expectChosen(["eval/kl", "train/actor/kl_loss/mean"], "train/actor/kl_loss/mean")
        Self.expectChosen(["eval/actor/ppo_kl", "train/actor/ppo_kl/mean"], "train/actor/ppo_kl/mean")
        // Among statistics, the order of the aliases they are of.
        Self.expectChosen(
            ["actor/ppo_kl/mean", "critic/kl/mean", "actor/kl_loss/mean"], "actor/kl_loss/mean")
    }

    @Test func mismatchAndCoefficientKeysAreNeverChosenHoweverSpelled() {
        let keys = [
            "rollout_corr/kl/mean", "train/rollout_corr/k3_kl", "vllm_kl/max", "mismatch_kl/all/mean",
            "train/actor/kl_coef", "objective/kl_coef/mean", "actor/kl_loss/std", "klass", "train/kl_typo",
        ]
        for result in Self.chosen(keys) {
            #expect(result.key == nil, "\(result.format) chose \(result.key ?? "")")
            #expect(result.value == nil, "\(result.format)")
        }
    }

    /// Every variant of every reference and update-size key of FORMATS.md's table is a candidate; the ranks
    /// of the aliases keep their order, so a log that chose an alias before chooses it still.
    @Test func everyVariantOfAChoosableKeyRanksAndTheAliasesKeepTheirOrder() {
        for (kind, keys) in KLKeyClassTests.table {
            for key in keys {
                for variant in KLKeyClassTests.variants(key) {
                    let rank = MetricKeys.automaticRank(variant)
                    if kind == .reference || kind == .updateSize {
                        #expect(rank != nil, "\(variant)")
                    } else {
                        #expect(rank == nil, "\(variant)")
                    }
                }
            }
        }
        let ranks = MetricKeys.klAliases.indices.map(MetricKeys.automaticRank(aliasAt:))
        #expect(ranks == ranks.sorted() && Set(ranks).count == ranks.count)
    }

    /// Stores whose rows are one key each (MLflow) choose among all keys a run has, the same way.
    @Test func storesChooseAmongTheRunsKeysTheSameWay() {
        var choice = StoreKeyChoice(selection: .automatic)
        let none = choice.choose(among: ["loss", "rollout_corr/kl/mean", "actor/kl_coef"])
        #expect(!none && choice.chosenKey == nil)
        let some = choice.choose(among: ["loss", "actor/ppo_kl", "actor/kl_loss/mean", "eval/kl"])
        #expect(some)
        #expect(choice.chosenKey == "actor/kl_loss/mean")
    }

    /// The choice is made on the first record holding a candidate and kept: a later record holding a
    /// better-ranked key does not switch the series.
    @Test func aNormalisedChoiceIsKeptForTheRun() {
        let lines = """
            {"step": 1, "actor/ppo_kl/mean": 0.5}
            {"step": 2, "actor/ppo_kl/mean": 0.25, "actor/kl_loss": 9}
            {"step": 3, "actor/kl_loss": 9}

            """
        let (samples, reader) = read(JSONLReader(), Array(lines.utf8))
        #expect(reader.metricKey == "actor/ppo_kl/mean")
        #expect(samples == [MetricSample(step: 1, value: 0.5), MetricSample(step: 2, value: 0.25)])
        #expect(reader.statistics.records == 3 && reader.statistics.samples == 2)
    }
}
