import KLDetector
import KltopKit
import LogFollowing
import RunLogs
import Testing

/// `kltop demo`'s simulated runs tell the story the README promises, under rlwatch's default settings.
@Suite struct DemoRunsTests {
    /// Every run's name and samples after `seconds` of the demo.
    static func runs(seconds: Double, seed: UInt64 = 2026) -> [(name: String, samples: [MetricSample])] {
        var demo = DemoRuns(stepsPerSecond: 20, initialSteps: 600, seed: seed)
        var runs: [(name: String, samples: [MetricSample])] = []
        for now in [1000, 1000 + seconds] {
            demo.advance(to: now) { event in
                switch event {
                case .runAppeared(let run, let name, _):
                    #expect(run == runs.count)
                    runs.append((name, []))
                case .samples(let run, let samples, let key, _):
                    #expect(key == "kl")
                    runs[run].samples += samples
                default: Issue.record("unexpected event \(event)")
                }
            }
        }
        return runs
    }

    /// The steps of a series at which rlwatch's detector raises a critical alert, in a baseline mode.
    static func criticalSteps(_ samples: [MetricSample], _ mode: BaselineMode) -> [Int64] {
        var monitor = RunMonitor(
            name: "demo", detector: DetectorSettings(baselineMode: mode), policy: AlertPolicySettings())
        return samples.compactMap { sample in
            monitor.observe(sample)?.alert.flatMap { $0.severity == .critical ? sample.step : nil }
        }
    }

    @Test func fiveRunsGrowAtTheirRateFromTheirHistoryAndRepeatForASeed() {
        let runs = Self.runs(seconds: 150)
        #expect(runs.map(\.name) == DemoRuns.Kind.allCases.map(\.rawValue))
        for run in runs {
            #expect(run.samples.map(\.step) == Array(0..<3600), "\(run.name)")
        }
        let again = Self.runs(seconds: 150)
        #expect(runs.map { $0.samples.map(\.value) } == again.map { $0.samples.map(\.value) })
        let otherSeed = Self.runs(seconds: 150, seed: 7)
        #expect(runs[0].samples.map(\.value) != otherSeed[0].samples.map(\.value))
    }

    @Test func eachRunBehavesAsItsNameSays() {
        let runs = Dictionary(uniqueKeysWithValues: Self.runs(seconds: 150).map { ($0.name, $0.samples) })
        // Healthy: nothing critical, whatever the baseline.
        let healthy = runs["healthy"] ?? []
        #expect(Self.criticalSteps(healthy, .rolling).isEmpty && Self.criticalSteps(healthy, .frozen).isEmpty)
        // Spike: every spike past the first window is critical, and nothing else.
        let spikes = Array(stride(from: Int64(449), to: 3600, by: 450))
        #expect(Self.criticalSteps(runs["spike"] ?? [], .rolling) == spikes)
        // Slow drift: the rolling baseline follows it, the frozen one catches it.
        let drift = runs["slow-drift"] ?? []
        #expect(Self.criticalSteps(drift, .rolling).isEmpty)
        #expect(Self.criticalSteps(drift, .frozen).count > 1000)
        // Explosion: each blow-up (the last 400 steps of every 1500) turns critical, whatever the baseline.
        for mode in [BaselineMode.rolling, .frozen] {
            let critical = Self.criticalSteps(runs["explosion"] ?? [], mode)
            for start in [1100, 2600] as [Int64] {
                #expect(critical.contains { (start..<start + 400).contains($0) }, "\(mode) from \(start)")
            }
            #expect(critical.allSatisfy { $0 % 1500 >= 1100 }, "\(mode): \(critical.prefix(5))")
        }
        // Bursty PPO: its bursts alert on a rolling baseline.
        #expect(!Self.criticalSteps(runs["bursty-ppo"] ?? [], .rolling).isEmpty)
    }
}
