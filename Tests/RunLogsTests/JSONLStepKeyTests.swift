import RunLogs
import TestSupport
import Testing

/// The step of a JSON record that has none of the ordinary step keys: stable-baselines3's
/// `time/total_timesteps`, as in its `progress.csv`.
@Suite struct JSONLStepKeyTests {
    @Test func sb3sTotalTimestepsIsTheStep() {
        let (samples, _) = readJSONL(
            """
            {"time/iterations": 1, "time/total_timesteps": 64}
            {"train/approx_kl": 2.253800630569458e-05, "time/iterations": 2, "time/total_timesteps": 128}
            {"train/approx_kl": 0.5, "time/total_timesteps": 192, "time/iterations": 3}

            """)
        #expect(
            samples == [
                MetricSample(step: 128, value: 2.253800630569458e-05), MetricSample(step: 192, value: 0.5),
            ])
    }

    /// Only without the ordinary keys: a record that has `step` keeps it, whatever the order of its keys.
    @Test func anOrdinaryStepKeyWins() {
        let (samples, _) = readJSONL(
            """
            {"time/total_timesteps": 6400, "step": 3, "kl": 0.5}
            {"kl": 0.25, "global_step": 4, "time/total_timesteps": 6464}
            {"kl": 0.125, "time/total_timesteps": 6528, "_step": 5}

            """)
        #expect(samples.map(\.step) == [3, 4, 5])
    }

    /// A record without any step key still takes its ordinal; a step that is no whole number does too.
    @Test func withoutAnyStepKeyTheOrdinal() {
        let (samples, reader) = readJSONL(
            """
            {"kl": 0.5}
            {"kl": 0.25, "time/total_timesteps": 12.5}

            """)
        #expect(samples.map(\.step) == [0, 1])
        #expect(reader.statistics.unusableSteps == 1)
    }

    /// veRL's nested `data` is no place for a step key.
    @Test func aNestedTotalTimestepsIsNoStep() {
        let (samples, _) = readJSONL("{\"data\": {\"kl\": 0.5, \"time/total_timesteps\": 64}}\n")
        #expect(samples == [MetricSample(step: 0, value: 0.5)])
    }

    /// ART's history.jsonl (written by ART 0.5.23's own `_log_metrics`): `training_step` is the step, and
    /// its val records (no KL) are records too.
    @Test func artsTrainingStepIsTheStep() throws {
        let bytes = try formatFixture("textlogs/art/models/grpo-agent-001/history.jsonl")
        let (samples, reader) = read(JSONLReader(), bytes)
        #expect(reader.metricKey == "loss/kl_policy_ref")
        #expect(samples.map(\.step) == Array(1...15))
        #expect(samples.map(\.value) == samples.map { klAt(Int($0.step), spike: 7) })
        #expect(reader.statistics.records == 18 && reader.statistics.badLines == 0)
    }

    /// Where `training_step` and `step` differ, `training_step` wins, whatever the order of the keys.
    @Test func trainingStepWinsOverStep() {
        let (samples, _) = readJSONL(
            """
            {"step": 100, "kl": 0.5, "training_step": 3}
            {"training_step": 4, "step": 101, "kl": 0.25}
            {"step": 102, "kl": 0.125}

            """)
        #expect(samples.map(\.step) == [3, 4, 102])
    }

    /// prime-rl's metrics.jsonl reads as it is (flat, `step`); its only KL key is the trainer vs inference
    /// engine mismatch, never chosen as the series.
    @Test func primeRLsMismatchKLIsNotTheSeries() throws {
        let bytes = try formatFixture("textlogs/prime_rl/metrics.jsonl")
        let (samples, reader) = read(JSONLReader(), bytes)
        #expect(samples.isEmpty && reader.metricKey == nil)
        #expect(reader.statistics.records == 20 && reader.statistics.badLines == 0)
        #expect(reader.statistics.keysSeen.contains("mismatch_kl/all/mean"))
        #expect(KLKeyClass.of("mismatch_kl/all/mean") == .mismatch)
        let (named, _) = read(JSONLReader(metric: .key("mismatch_kl/all/mean")), bytes)
        #expect(named.map(\.step) == Array(0...19))
        #expect(named.map(\.value) == named.map { klAt(Int($0.step), spike: 11) })
    }
}
