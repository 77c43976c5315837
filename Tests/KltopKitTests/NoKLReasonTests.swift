import Testing

@testable import KltopKit

/// Why a run has no KL to the reference model, where its keys show it.
@Suite struct NoKLReasonTests {
    @Test func trlGRPOWithBetaZeroIsToldFromItsKeysInOldAndNewSpellings() {
        for keys in [
            ["loss", "completions/mean_length", "frac_reward_zero_std", "reward"],
            ["train/loss", "train/completions/mean_length", "train/reward_std"],
            ["loss", "completion_length", "reward_std", "reward"],
        ] {
            #expect(ReadReport.whyNoKL(keysSeen: keys) == ReadReport.trlGRPOWithoutKL, "\(keys)")
        }
        // Keys that say nothing of TRL say nothing.
        #expect(ReadReport.whyNoKL(keysSeen: ["loss", "completion_length"]) == nil)
        #expect(ReadReport.whyNoKL(keysSeen: ["loss", "reward_std"]) == nil)
    }

    @Test func onlyMismatchOrCoefficientKeysAreNamed() {
        let why = ReadReport.whyNoKL(keysSeen: ["actor/kl_coef", "rollout_corr/kl/mean", "loss"])
        #expect(why?.contains("KL between trainer and inference engine (\"rollout_corr/kl/mean\")") == true)
        #expect(why?.contains("the KL coefficient (\"actor/kl_coef\")") == true)
        // Made inert: nothing from the log reaches the terminal as written.
        let hostile = ReadReport.whyNoKL(keysSeen: ["vllm_kl\u{1B}[2J"]) ?? ""
        #expect(!hostile.contains("\u{1B}"))
    }

    @Test func veRLsApproxKLSaysWhichSwitchLogsReferenceKL() {
        for key in ["actor/ppo_kl", "train/actor/ppo_kl", "data.actor/ppo_kl", "actor/ppo_kl/mean"] {
            #expect(
                ReadReport.whyOnlyUpdateSizeKL(metricKey: key) == ReadReport.veRLWithoutReferenceKL, "\(key)")
        }
        for key in ["approx_kl", "ppo_kl", "actor/kl_loss", "actor/ppo_kl_coef"] {
            #expect(ReadReport.whyOnlyUpdateSizeKL(metricKey: key) == nil, "\(key)")
        }
    }
}
