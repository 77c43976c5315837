import LogFollowing
import RunLogs
import Testing

@testable import KltopKit

@Suite struct RunActivityTests {
    @Test func aRunIsStaleAfterTenOfItsUsualIntervalsAndNeverBeforeAMinute() {
        var activity = RunActivity()
        #expect(!activity.isStale(at: 1e9), "no step yet: nothing to be late for")
        for second in stride(from: 0.0, through: 100, by: 10) { activity.observe(at: second) }
        #expect(activity.usualInterval == 10 && activity.staleAfter == 100)
        #expect(!activity.isStale(at: 199) && activity.isStale(at: 201))
        var fast = RunActivity()
        for second in stride(from: 0.0, through: 10, by: 0.5) { fast.observe(at: second) }
        #expect(fast.staleAfter == RunActivity.minimumSilence)
        #expect(!fast.isStale(at: 69) && fast.isStale(at: 71))
        // Steps read together (a log's past) are one arrival: no interval of zero.
        var burst = RunActivity()
        burst.observe(at: 5)
        burst.observe(at: 5)
        #expect(burst.usualInterval == nil)
    }

    @Test func checkFollowSaysOnceThatARunWentQuietAndWhenItLogsAgain() {
        var said: [String] = []
        var session = CheckSession(
            request: CheckRequest(paths: ["ppo.jsonl"], follow: true),
            sink: CheckOutput(output: { _ in }, diagnostics: { said.append($0) }))
        let samples = (0..<5).map { MetricSample(step: Int64($0), value: 0.01) }
        var statistics = ReadStatistics()
        statistics.samples = 5
        session.handle(.runAppeared(run: 0, name: "ppo", path: "ppo.jsonl"))
        session.handle(.samples(run: 0, samples, metricKey: "kl", statistics: statistics))
        let now = SourceDriver.monotonicSeconds()
        session.sayStaleRuns(now: now + 30)
        #expect(!said.contains { $0.contains("stale") })
        session.sayStaleRuns(now: now + 120)
        session.sayStaleRuns(now: now + 180)
        #expect(
            said.filter { $0.hasPrefix("kltop: ppo: stale: no new step for 2 min") }.count == 1, "\(said)")
        session.handle(
            .samples(run: 0, [MetricSample(step: 5, value: 0.01)], metricKey: "kl", statistics: statistics))
        #expect(said.last == "kltop: ppo: logging again")
    }

    @Test func aFinishedRunIsNotStale() {
        var said: [String] = []
        var session = CheckSession(
            request: CheckRequest(paths: ["grpo"], follow: true),
            sink: CheckOutput(output: { _ in }, diagnostics: { said.append($0) }))
        var statistics = ReadStatistics()
        statistics.runFinished = true
        session.handle(.runAppeared(run: 0, name: "grpo", path: "grpo"))
        session.handle(
            .samples(run: 0, [MetricSample(step: 1, value: 0.01)], metricKey: "kl", statistics: statistics))
        session.sayStaleRuns(now: SourceDriver.monotonicSeconds() + 3600)
        #expect(!said.contains { $0.contains("stale") })
    }
}
