/// Which key of a record holds the KL series.
public enum MetricSelection: Sendable, Equatable {
    /// The first key of ``MetricKeys/klAliases`` found in the log.
    case automatic
    /// Exactly this key (`--metric KEY`). In veRL-style records it may name a key inside `data`, with or
    /// without the `data.` prefix.
    case key(String)
}

/// The key names kltop knows.
public enum MetricKeys {
    /// KL keys in order of preference: KL to the reference model (the one that explodes before reward
    /// hacking) before KL to the previous policy (PPO's approx-KL, a step-size signal).
    ///
    /// - rlwatch: `kl_divergence`
    /// - TRL GRPO, OpenRLHF: `kl`; TRL PPO: `objective/kl`
    /// - veRL: `actor/kl_loss` (KL loss), `actor/reward_kl_penalty` (KL in the reward)
    /// - logged through a `train/` prefix (TensorBoard, W&B): `train/kl`, `train/objective/kl`
    /// - `kl_penalty`
    /// - old-policy KL: `approx_kl`, `policy/approxkl_avg`, `train/approx_kl` (stable-baselines3),
    ///   `actor/ppo_kl` (veRL), `ppo_kl`
    public static let klAliases: [String] = [
        "kl_divergence", "kl", "objective/kl", "actor/kl_loss", "actor/reward_kl_penalty", "train/kl",
        "train/objective/kl", "kl_penalty",
        "approx_kl", "policy/approxkl_avg", "train/approx_kl", "actor/ppo_kl", "ppo_kl",
    ]

    /// Keys that hold the step number, in order of preference. Without any, a record's ordinal (0-based,
    /// counting every record) is its step.
    public static let stepKeys: [String] = ["step", "global_step", "_step", "train/global_step"]

    /// Step keys of JSON records: ``stepKeys``, then, for a record that has none of them,
    /// stable-baselines3's `time/total_timesteps`. SB3's `progress.json` holds the same keys as its
    /// `progress.csv` (read by ``tableStepKeys``), so both files of one run give the same steps.
    public static let recordStepKeys: [String] = stepKeys + ["time/total_timesteps"]

    /// Step columns of table-shaped logs (CSV), in order of preference: Lightning and most loops (`step`),
    /// stable-baselines3 (`time/total_timesteps`), Weights & Biases exports (`trainer/global_step`, `_step`).
    /// Without any, a data row's ordinal (0-based) is its step.
    public static let tableStepKeys: [String] = [
        "step", "time/total_timesteps", "global_step", "trainer/global_step", "_step", "train/global_step",
    ]

    /// The object whose keys count as top-level keys, as veRL's file logger nests its metrics.
    static let nestedMetricsKey = "data"
}
