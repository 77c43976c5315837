import RunLogs
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
}
