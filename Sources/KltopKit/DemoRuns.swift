import LogFollowing
import RunLogs

/// Simulated runs for `kltop demo`, generated live: what KL looks like when a run is healthy, spikes,
/// drifts, is bursty as PPO often is, and explodes. Deterministic (seeded), so a demo can be repeated.
///
/// Each run starts with some history already there, so that tuning (σ, window, baseline mode) has
/// something to act on at once, then grows by `stepsPerSecond`.
public struct DemoRuns: Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case healthy
        case spike
        /// The rolling baseline follows it; the frozen one catches it.
        case slowDrift = "slow-drift"
        case burstyPPO = "bursty-ppo"
        case explosion
    }

    public let stepsPerSecond: Double
    public let initialSteps: Int
    private var generators: [Generator]
    private var start: Double?
    private var emitted = 0

    public init(stepsPerSecond: Double = 20, initialSteps: Int = 600, seed: UInt64 = 2026) {
        self.stepsPerSecond = stepsPerSecond
        self.initialSteps = initialSteps
        generators = Kind.allCases.enumerated().map { Generator(kind: $1, seed: seed &+ UInt64($0) &* 7919) }
    }

    /// Emits the runs (on the first call) and every step due by `now`.
    public mutating func advance(to now: Double, emit: (FollowEvent) -> Void) {
        if start == nil {
            start = now
            for (index, generator) in generators.enumerated() {
                emit(
                    .runAppeared(
                        run: index, name: generator.kind.rawValue, path: "demo: \(generator.kind.rawValue)"))
            }
        }
        let due = initialSteps + Int((now - start!) * stepsPerSecond)
        guard due > emitted else { return }
        for index in generators.indices {
            var samples: [MetricSample] = []
            samples.reserveCapacity(due - emitted)
            for step in emitted..<due {
                samples.append(MetricSample(step: Int64(step), value: generators[index].value(at: step)))
            }
            var statistics = ReadStatistics()
            statistics.records = due
            statistics.samples = due
            emit(.samples(run: index, samples, metricKey: "kl", statistics: statistics))
        }
        emitted = due
    }

    /// One run's series.
    struct Generator: Sendable {
        let kind: Kind
        var state: UInt64

        init(kind: Kind, seed: UInt64) {
            self.kind = kind
            state = seed
        }

        mutating func unit() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
        }

        mutating func noise() -> Double { (unit() + unit() + unit() - 1.5) * 2 }  // roughly N(0, 1)

        mutating func value(at step: Int) -> Double {
            let base = 0.02 + 0.002 * noise()
            switch kind {
            case .healthy:
                return base
            case .spike:
                return step % 450 == 449 ? base + 0.05 + 0.02 * unit() : base
            case .slowDrift:
                return base + 0.00004 * Double(step)
            case .burstyPPO:
                let inBurst = (step / 120) % 3 == 2
                return inBurst ? 0.02 + 0.009 * abs(noise()) : base
            case .explosion:
                // Calm, then the policy runs away from its reference; a new run starts after it blows up.
                let phase = step % 1500
                return phase < 1100 ? base : base * exp(Double(phase - 1100) / 60)
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
