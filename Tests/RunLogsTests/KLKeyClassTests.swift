import Testing

@testable import RunLogs

/// FORMATS.md's table "KL keys, by what they measure": every key classifies as the table says, also
/// with the prefixes and suffixes loggers add; the automatic choice finds every reference and update-size key
/// and never takes a mismatch or coefficient key.
@Suite struct KLKeyClassTests {
    static let table: [(KLKeyClass, [String])] = [
        (
            .reference,
            [
                "kl", "objective/kl", "actor/kl_loss", "actor/reward_kl_penalty", "train/kl_penalty",
                "policy/policy_kl", "loss/avg_kl", "train/kl_loss", "kl_loss", "critic/kl", "train/kl3",
                "ppo_actor/kl_rewards/avg", "kl_div", "loss/kl_policy_ref", "eval_kl", "eval/kl",
                "kl_divergence",
            ]
        ),
        (
            .updateSize,
            [
                "approx_kl", "policy/approxkl_avg", "actor/ppo_kl", "ppo_kl", "train/ppo_kl",
                "actor/approxkl",
                "actor/policykl", "approx_policy_kl", "ppo_actor/update/approx_kl/avg", "ppo/policy/approxkl",
            ]
        ),
        (
            .mismatch,
            [
                "rollout_corr/kl", "rollout_corr/k3_kl", "vllm_kl", "mismatch_kl/all/mean",
                "train/gen_kl_error",
                "train/kl_sample_train_v1",
            ]
        ),
        (.coefficient, ["actor/kl_coef", "objective/kl_coef", "critic/kl_coef", "loss/kl_loss_coef"]),
    ]

    static func variants(_ key: String) -> [String] {
        var keys = [key]
        for prefix in ["train/", "eval/", "data."] { keys.append(prefix + key) }
        for suffix in ["/mean", "/avg", "/max"] {
            keys.append(key + suffix)
            keys.append("train/" + key + suffix)
        }
        keys.append("data.train/" + key)
        return keys
    }

    @Test func everyKeyOfTheTableClassifiesAsTheTableSaysWithPrefixesAndSuffixes() {
        for (kind, keys) in Self.table {
            for key in keys {
                for variant in Self.variants(key) {
                    #expect(KLKeyClass.of(variant) == kind, "\(variant)")
                }
            }
        }
    }

    @Test func keysThatAreNoKLKeyAreNil() {
        for key in [
            "loss", "reward", "train/loss", "kl_coef_x", "klass", "", "/mean", "train/", "data.", "entropy",
            "completions/mean_length", "train/kl_typo", "kl/std", "actor/kl_loss/std",
        ] {
            #expect(KLKeyClass.of(key) == nil, "\(key)")
        }
    }

    @Test func theAutomaticChoiceHasEveryReferenceAndUpdateSizeKeyReferenceFirstAndNoOther() {
        let aliases = MetricKeys.klAliases
        #expect(Set(aliases).count == aliases.count, "no alias twice")
        for (kind, keys) in Self.table where kind == .reference || kind == .updateSize {
            for key in keys { #expect(aliases.contains(key), "\(key)") }
        }
        let classes = aliases.map { KLKeyClass.of($0) }
        #expect(classes.allSatisfy { $0 == .reference || $0 == .updateSize }, "\(aliases)")
        let firstUpdateSize = classes.firstIndex(of: .updateSize)!
        #expect(classes[..<firstUpdateSize].allSatisfy { $0 == .reference })
        #expect(classes[firstUpdateSize...].allSatisfy { $0 == .updateSize })
        // Training before evaluation keys; the aliases known before keep their order.
        let firstEval = aliases.firstIndex { $0.hasPrefix("eval") }!
        #expect(aliases[firstEval..<firstUpdateSize].allSatisfy { $0.hasPrefix("eval") })
        let old = [
            "kl_divergence", "kl", "objective/kl", "actor/kl_loss", "actor/reward_kl_penalty", "train/kl",
            "train/objective/kl", "kl_penalty", "approx_kl", "policy/approxkl_avg", "train/approx_kl",
            "actor/ppo_kl", "ppo_kl",
        ]
        #expect(aliases.filter(old.contains) == old)
    }

    /// A log with KL to the reference model and approx KL takes the reference one, whatever the order; one
    /// with only a mismatch or coefficient key has no KL key.
    @Test func readersChooseTheReferenceKeyAndNeverAMismatchOrCoefficientKey() {
        var scanner = JSONLineScanner(selection: .automatic)
        let line =
            #"{"step": 1, "actor/ppo_kl": 0.5, "rollout_corr/kl": 9, "critic/kl": 0.25, "actor/kl_coef": 7}"#
        var bytes = Array(line.utf8)
        let outcome = bytes.withUnsafeMutableBufferPointer { scanner.scan(UnsafeBufferPointer($0)) }
        #expect(outcome == .sample(MetricSample(step: 1, value: 0.25)))
        #expect(scanner.chosenKey == "critic/kl")

        var other = JSONLineScanner(selection: .automatic)
        var none = Array(#"{"step": 1, "rollout_corr/kl": 9, "actor/kl_coef": 7, "vllm_kl": 1}"#.utf8)
        #expect(none.withUnsafeMutableBufferPointer { other.scan(UnsafeBufferPointer($0)) } == .noMetric)
        #expect(other.chosenKey == nil)

        var matcher = MetricKeyMatcher(selection: .automatic)
        #expect(matcher.rank("rollout_corr/kl") == nil && matcher.rank("actor/kl_coef") == nil)
        let ranks = ["actor/ppo_kl", "train/kl_loss"].map { matcher.rank($0)! }
        #expect(ranks[1] < ranks[0])
        matcher.choose(rank: ranks[1], key: "train/kl_loss")
        #expect(matcher.chosenKey == "train/kl_loss")
        #expect(matcher.rank("train/kl_loss") == 0 && matcher.rank("actor/ppo_kl") == nil)
    }

    /// The filter before the byte comparison rejects no alias.
    @Test func everyAliasIsFoundByTheMatchersWhileChoosing() {
        let matcher = MetricKeyMatcher(selection: .automatic)
        for (rank, alias) in MetricKeys.klAliases.enumerated() {
            #expect(matcher.rank(alias) == MetricKeys.automaticRank(aliasAt: rank), "\(alias)")
            var scanner = JSONLineScanner(selection: .automatic)
            var bytes = Array(#"{"\#(alias)": 0.5, "step": 3}"#.utf8)
            let outcome = bytes.withUnsafeMutableBufferPointer { scanner.scan(UnsafeBufferPointer($0)) }
            #expect(outcome == .sample(MetricSample(step: 3, value: 0.5)), "\(alias)")
            #expect(scanner.chosenKey == alias)
        }
    }
}
