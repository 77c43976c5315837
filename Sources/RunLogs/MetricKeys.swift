#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which key of a record holds the KL series.
public enum MetricSelection: Sendable, Equatable {
    /// The first key of ``MetricKeys/klAliases`` found in the log.
    case automatic
    /// Exactly this key (`--metric KEY`). In veRL-style records it may name a key inside `data`, with or
    /// without the `data.` prefix.
    case key(String)

    /// The key `--metric` named; nil for the automatic choice.
    public var requestedKey: String? {
        if case .key(let key) = self { key } else { nil }
    }
}

/// The key names kltop knows.
public enum MetricKeys {
    /// KL keys in order of preference (see ``KLKeyClass``): KL to the reference model (the one that explodes
    /// before reward hacking), training keys before evaluation ones, then KL to the previous policy (PPO's
    /// approx-KL, a step-size signal). Never a mismatch (trainer vs inference engine) or coefficient key.
    /// The first aliases keep their old order, so a log that chose one before chooses it still.
    ///
    /// - rlwatch: `kl_divergence`
    /// - TRL GRPO/RLOO, OpenRLHF, torchtune PPO: `kl`; TRL PPO, Online DPO: `objective/kl`
    /// - veRL: `actor/kl_loss` (KL loss; ROLL too), `actor/reward_kl_penalty` (KL in the reward)
    /// - logged through a `train/` prefix (transformers' W&B and TensorBoard callbacks, OpenRLHF):
    ///   `train/kl`, `train/objective/kl`
    /// - NeMo-RL `train/kl_penalty`, SkyRL `policy/policy_kl` and `loss/avg_kl`, slime `train/kl_loss`,
    ///   torchtune GRPO `kl_loss`, ROLL `critic/kl`, Oat `train/kl3`, AReaL `ppo_actor/kl_rewards/avg`,
    ///   `kl_div`, ART `loss/kl_policy_ref`; then evaluation: `eval_kl`, `eval/kl`
    /// - old-policy KL: `approx_kl`, `policy/approxkl_avg` (TRL PPO), `train/approx_kl` (stable-baselines3),
    ///   `actor/ppo_kl` (veRL), `ppo_kl` (OpenRLHF), `train/ppo_kl` (slime), `actor/approxkl`,
    ///   `actor/policykl` (ROLL), `approx_policy_kl` (torchtune), `ppo_actor/update/approx_kl/avg` (AReaL),
    ///   `ppo/policy/approxkl` (old TRL), `train/policy/approxkl_avg`
    public static let klAliases: [String] = [
        "kl_divergence", "kl", "objective/kl", "actor/kl_loss", "actor/reward_kl_penalty", "train/kl",
        "train/objective/kl", "kl_penalty",
        "train/kl_penalty", "policy/policy_kl", "loss/avg_kl", "train/kl_loss", "kl_loss", "critic/kl",
        "train/kl3", "ppo_actor/kl_rewards/avg", "kl_div", "loss/kl_policy_ref", "train/kl_div",
        "eval_kl", "eval/kl", "eval/objective/kl",
        "approx_kl", "policy/approxkl_avg", "train/approx_kl", "actor/ppo_kl", "ppo_kl",
        "train/ppo_kl", "actor/approxkl", "actor/policykl", "approx_policy_kl",
        "ppo_actor/update/approx_kl/avg",
        "ppo/policy/approxkl", "train/policy/approxkl_avg",
    ]

    /// Keys that hold the step number, in order of preference. Without any, a record's ordinal (0-based,
    /// counting every record) is its step.
    public static let stepKeys: [String] = ["step", "global_step", "_step", "train/global_step"]

    /// Step keys of JSON records: ART's `training_step` first, then ``stepKeys``, then, for a record that
    /// has none of them, stable-baselines3's `time/total_timesteps`. SB3's `progress.json` holds the same
    /// keys as its `progress.csv` (read by ``tableStepKeys``), so both files of one run give the same steps.
    ///
    /// ART's `history.jsonl` (`Model._log_metrics`, `art/model.py`) writes both `training_step` and `step`;
    /// `training_step` is the trainer's step, the x axis ART gives W&B for every metric
    /// (`define_metric(..., step_metric="training_step")`), so that evaluations logged late for an earlier
    /// step land on it. The two are equal in ART 0.5, and `training_step` is the one that says so.
    public static let recordStepKeys: [String] = ["training_step"] + stepKeys + ["time/total_timesteps"]

    /// Step columns of table-shaped logs (CSV), in order of preference: Lightning and most loops (`step`),
    /// stable-baselines3 (`time/total_timesteps`), Weights & Biases exports (`trainer/global_step`, `_step`).
    /// Without any, a data row's ordinal (0-based) is its step.
    public static let tableStepKeys: [String] = [
        "step", "time/total_timesteps", "global_step", "trainer/global_step", "_step", "train/global_step",
    ]

    /// The object whose keys count as top-level keys, as veRL's file logger nests its metrics.
    static let nestedMetricsKey = "data"

    /// The place of a key in the automatic choice (lower is better), or nil if it is never chosen by
    /// itself. Keys are ordered first by tier — reference KL from training, from evaluation, then update-size
    /// KL from training, from evaluation — and within a tier the aliases come as listed, then keys that
    /// become a known KL key once the logger's prefixes and a statistic suffix are looked past
    /// (``KLKeyClass``: `actor/kl_loss/mean`, `train/actor/ppo_kl`), in the order of the key they become.
    /// So an alias logged as such wins over a spelling of its own statistic, and reference KL, however
    /// spelled, wins over update-size KL. Mismatch and coefficient keys are never chosen.
    static func automaticRank(_ key: String) -> Int? {
        var key = key
        return key.withUTF8 { automaticRank(UnsafeRawBufferPointer($0)) }
    }

    /// ``automaticRank(_:)-(String)`` of a key's bytes, without building a string: readers rank every key
    /// holding `kl` of every record while no key is chosen, also in a log that has none to choose.
    static func automaticRank(_ key: UnsafeRawBufferPointer) -> Int? {
        if let index = KLKeyClass.lookUp(key, in: aliasPacked, aliasBytes) { return aliasRanks[index] }
        return rank(ofNonAlias: key)
    }

    /// ``automaticRank(_:)-(UnsafeRawBufferPointer)`` of a key the caller has already found to be no alias
    /// (the readers compare keys with the aliases first, and ask this of the others only while choosing).
    static func rank(ofNonAlias key: UnsafeRawBufferPointer) -> Int? {
        guard key.containsKL, let known = KLKeyClass.normalised(key),
            let tier = tierOf(KLKeyClass.tableKinds[known.entry], evaluation: known.isEvaluation)
        else { return nil }
        return tier * tierWidth + klAliases.count
            + (KLKeyClass.tableAliasIndex[known.entry] ?? klAliases.count)
    }

    /// The automatic rank of the alias at `index` of ``klAliases``; increasing with the index.
    static func automaticRank(aliasAt index: Int) -> Int { aliasRanks[index] }

    private static let tierWidth = 2 * klAliases.count + 1
    private static let aliasBytes = klAliases.map { Array($0.utf8) }
    private static let aliasPacked = aliasBytes.map(PackedKey.init)
    private static let aliasRanks: [Int] = klAliases.enumerated().map { index, alias in
        let known = KLKeyClass.normalised(alias)
        let tier = known.flatMap { tierOf($0.kind, evaluation: $0.isEvaluation) } ?? 0
        return tier * tierWidth + index
    }

    private static func tierOf(_ kind: KLKeyClass, evaluation: Bool) -> Int? {
        switch kind {
        case .reference: evaluation ? 1 : 0
        case .updateSize: evaluation ? 3 : 2
        case .mismatch, .coefficient: nil
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether the bytes hold `kl`: every KL key kltop can choose by itself does, so other keys are passed
    /// over without a look into the table. With `memchr`, as this runs on every key of every record while
    /// no key is chosen (in a log without KL, all along).
    var containsKL: Bool {
        guard count >= 2, var start = baseAddress else { return false }
        // Where a `k` may start the pair: all bytes but the last.
        var left = count - 1
        while left > 0, let k = memchr(start, Int32(UInt8(ascii: "k")), left) {
            let next = UnsafeRawPointer(k) + 1
            if next.load(as: UInt8.self) == UInt8(ascii: "l") { return true }
            left -= next - start
            start = next
        }
        return false
    }
}

/// What a KL key measures. The same word names four things in RL logs; only ``reference`` is what the
/// KL-explosion detector is for (FORMATS.md, "KL keys, by what they measure").
public enum KLKeyClass: String, Sendable, CaseIterable {
    /// Policy vs the reference model: drift, the series that explodes before reward hacking.
    case reference
    /// Policy vs the previous policy (PPO's approx KL): the size of one update, not drift.
    case updateSize
    /// Trainer vs inference engine (vLLM, SGLang): numerical mismatch, not drift.
    case mismatch
    /// The KL coefficient (β): a setting, not a divergence.
    case coefficient

    /// The class of `key`, or nil for a key that is no known KL key. Logger prefixes (`data.` of veRL's file
    /// logger, `train/` and `eval/` of transformers' W&B and TensorBoard callbacks and OpenRLHF) and one
    /// statistic suffix (`/mean`, `/avg`, `/max`) are looked past, as FORMATS.md documents them.
    public static func of(_ key: String) -> KLKeyClass? { normalised(key)?.kind }

    /// A KL key as FORMATS.md's table knows it: the table's key found in `key` past logger prefixes and one
    /// statistic suffix, its class, and whether it comes from evaluation (an `eval/` prefix looked past, or
    /// an evaluation key such as `eval_kl`). Nil for a key that is no known KL key.
    public static func normalised(_ key: String) -> (base: String, kind: KLKeyClass, isEvaluation: Bool)? {
        var key = key
        return key.withUTF8 { bytes in
            normalised(UnsafeRawBufferPointer(bytes)).map {
                (tableNames[$0.entry], tableKinds[$0.entry], $0.isEvaluation)
            }
        }
    }

    /// ``normalised(_:)-(String)`` on bytes, without building a string (see ``MetricKeys/automaticRank(_:)``):
    /// prefixes are stripped one at a time, the table looked into after each, then one suffix. Gives the
    /// index of the table's key (``tableKind``, ``tableName``, ``tableAliasIndex``).
    static func normalised(_ key: UnsafeRawBufferPointer) -> (entry: Int, isEvaluation: Bool)? {
        if let entry = lookUp(key) { return (entry, tableIsEvaluation[entry]) }
        var name = key[...]
        var evaluation = false
        var stripped = true
        while stripped {
            stripped = false
            for prefix in prefixBytes where name.count > prefix.count && name.starts(with: prefix) {
                name = name.dropFirst(prefix.count)
                stripped = true
                if prefix.elementsEqual("eval/".utf8) { evaluation = true }
                if let entry = lookUp(UnsafeRawBufferPointer(rebasing: name)) {
                    return (entry, evaluation || tableIsEvaluation[entry])
                }
            }
        }
        for suffix in suffixBytes
        where name.count > suffix.count && name.reversed().starts(with: suffix.reversed()) {
            let base = UnsafeRawBufferPointer(rebasing: name.dropLast(suffix.count))
            return lookUp(base).map { ($0, evaluation || tableIsEvaluation[$0]) }
        }
        return nil
    }

    /// The index in the table of exactly `key`. Keys are compared packed (``PackedKey``), as the JSON Lines
    /// scanner compares its aliases: this runs for every key holding `kl` of every record while choosing.
    static func lookUp(_ key: UnsafeRawBufferPointer) -> Int? {
        lookUp(key, in: tablePacked, tableBytes)
    }

    static func lookUp(_ key: UnsafeRawBufferPointer, in packed: [PackedKey], _ whole: [[UInt8]]) -> Int? {
        let bytes = UnsafeBufferPointer(
            start: key.baseAddress?.assumingMemoryBound(to: UInt8.self), count: key.count)
        let shape = PackedKey.shape(bytes)
        guard key.count <= 32 else {
            return whole.firstIndex { $0.count == key.count && $0.elementsEqual(key) }
        }
        let wanted = PackedKey(bytes)
        for index in packed.indices where packed[index].shape == shape && packed[index] == wanted {
            return index
        }
        return nil
    }

    static let tableNames = table.keys.sorted()
    static let tableKinds = tableNames.map { table[$0]! }
    static let tableAliasIndex = tableNames.map { MetricKeys.klAliases.firstIndex(of: $0) }
    private static let tableIsEvaluation = tableNames.map { $0.hasPrefix("eval") }
    private static let tableBytes = tableNames.map { Array($0.utf8) }
    private static let tablePacked = tableBytes.map(PackedKey.init)

    static let prefixes = ["data.", "train/", "eval/"]
    static let suffixes = ["/mean", "/avg", "/max"]
    private static let prefixBytes = prefixes.map { Array($0.utf8) }
    private static let suffixBytes = suffixes.map { Array($0.utf8) }

    /// The keys of FORMATS.md's table, and rlwatch's own `kl_divergence`, as logged; ``of(_:)`` strips
    /// prefixes and a suffix to find the others.
    private static let table: [String: KLKeyClass] = {
        var table: [String: KLKeyClass] = [:]
        let classes: [(KLKeyClass, [String])] = [
            (
                .reference,
                [
                    "kl_divergence", "kl", "objective/kl", "actor/kl_loss", "actor/reward_kl_penalty",
                    "kl_penalty", "train/kl_penalty", "policy/policy_kl", "loss/avg_kl", "train/kl_loss",
                    "kl_loss", "critic/kl", "train/kl3", "kl3", "ppo_actor/kl_rewards/avg",
                    "ppo_actor/kl_rewards", "kl_div",
                    "loss/kl_policy_ref", "eval_kl", "eval/kl",
                ]
            ),
            (
                .updateSize,
                [
                    "approx_kl", "policy/approxkl_avg", "actor/ppo_kl", "ppo_kl", "train/ppo_kl",
                    "actor/approxkl", "actor/policykl", "approx_policy_kl", "ppo_actor/update/approx_kl/avg",
                    "ppo_actor/update/approx_kl", "ppo/policy/approxkl",
                ]
            ),
            (
                .mismatch,
                [
                    "rollout_corr/kl", "rollout_corr/k3_kl", "vllm_kl", "mismatch_kl/all/mean",
                    "mismatch_kl/all",
                    "train/gen_kl_error", "gen_kl_error", "train/kl_sample_train_v1", "kl_sample_train_v1",
                ]
            ),
            (.coefficient, ["actor/kl_coef", "objective/kl_coef", "critic/kl_coef", "loss/kl_loss_coef"]),
        ]
        for (kind, keys) in classes { for key in keys { table[key] = kind } }
        return table
    }()
}
