import KLDetector
import TestSupport
import Testing

@testable import Dashboard

@Suite struct HistoryTests {
    /// Appends samples through a detector, as a run does.
    static func history(
        _ values: [Double], steps: [Int64]? = nil, settings: DetectorSettings = DetectorSettings()
    )
        -> (RunHistory, [StepVerdict?])
    {
        var history = RunHistory()
        var detector = KLExplosionDetector(settings: settings)
        var verdicts: [StepVerdict?] = []
        for (index, value) in values.enumerated() {
            let step = steps?[index] ?? Int64(index)
            let verdict = detector.check(step: step, value: value)
            verdicts.append(verdict)
            history.append(step: step, value: value, verdict: verdict)
        }
        return (history, verdicts)
    }

    @Test func stepsValuesBandsAndStatusesReadBack() {
        let values = Series.healthy(count: 10_000, spikeAt: 5000).map(\.value)
        let (history, verdicts) = Self.history(values)
        #expect(history.count == 10_000)
        for index in [0, 1, 19, 20, 4095, 4096, 4097, 5000, 9999] {
            #expect(history.step(at: index) == Int64(index))
            #expect(history.value(at: index) == values[index])
            let verdict = verdicts[index]
            #expect(history.status(at: index) == verdict?.status)
            let band = history.band(at: index)
            if verdict?.status == .warmingUp {
                #expect(band.mean.isNaN && band.std.isNaN)
            } else if let verdict {
                #expect(band.mean == Float(verdict.mean) && band.std == Float(verdict.std))
            }
        }
        #expect(history.status(at: 5000) == .critical)
    }

    @Test func stepsFarApartFallBackTo64Bits() {
        let steps: [Int64] = [0, 1, Int64(Int32.max) + 10, -5, Int64.max, Int64.min, 7]
        let (history, _) = Self.history(Array(repeating: 0.5, count: steps.count), steps: steps)
        #expect((0..<steps.count).map(history.step(at:)) == steps)
        var far = RunHistory()
        far.append(step: 1_700_000_000_000, value: 1, verdict: nil)  // a timestamp as the step
        far.append(step: 1_700_000_000_001, value: 1, verdict: nil)
        #expect(far.step(at: 1) == 1_700_000_000_001)
    }

    @Test func statusesPackTwoBitsWithoutDisturbingNeighbours() {
        var column = StatusColumn(capacity: 100)
        let pattern: [StepStatus] = (0..<100).map {
            [.warmingUp, .normal, .warning, .critical][($0 * 7) % 4]
        }
        for (index, status) in pattern.enumerated() { column[index] = status }
        column[33] = .critical
        column[33] = .normal
        var expected = pattern
        expected[33] = .normal
        #expect((0..<100).map { column[$0] } == expected)
    }

    @Test(arguments: 0..<10) func summariesOfAnyRangeMatchAPlainScan(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var values = Series.healthy(count: 9000, seed: seed, spikeAt: 4200).map(\.value)
        for _ in 0..<5 {
            values[Int.random(in: 0..<values.count, using: &random)] =
                [Double.nan, .infinity, -.infinity].randomElement(using: &random) ?? .nan
        }
        let (history, _) = Self.history(values)
        for _ in 0..<50 {
            let a = Int.random(in: -10...9010, using: &random)
            let b = Int.random(in: -10...9010, using: &random)
            let range = min(a, b)..<max(a, b)
            let summary = history.summary(of: range)
            var expected = ValueSummary()
            for index in range.clamped(to: 0..<history.count) {
                let band = history.band(at: index)
                expected.add(
                    value: history.value(at: index), mean: band.mean, std: band.std,
                    status: history.status(at: index))
            }
            #expect(summary.count == expected.count)
            #expect(summary.minimum == expected.minimum && summary.maximum == expected.maximum)
            #expect(summary.worst == expected.worst)
            #expect(
                summary.hasNaN == expected.hasNaN
                    && summary.hasPositiveInfinity == expected.hasPositiveInfinity)
            #expect(summary.lastMean.bitPattern == expected.lastMean.bitPattern)
            #expect(abs(summary.sum - expected.sum) <= 1e-12 * max(1, abs(expected.sum)))
        }
    }

    @Test func aStoredStepCostsAtMost24Bytes() {
        let count = 200_000
        let (history, _) = Self.history(Series.healthy(count: count).map(\.value))
        let perStep = Double(history.bytesAllocated) / Double(count)
        #expect(perStep <= 24, "\(perStep) bytes per step")
        #expect(perStep >= 20.25, "the accounting must include the columns themselves")
    }

    @Test func replayingWithOtherSettingsEqualsIngestingWithThem() {
        let values = Series.drift(count: 3000).map(\.value)
        let steps = Series.drift(count: 3000).map(\.step)
        let first = DetectorSettings(sigmaMultiplier: 3, rollingWindow: 100)
        let second = DetectorSettings(
            sigmaMultiplier: 2, rollingWindow: 50, warmupSteps: 10, baselineMode: .frozen)
        var (history, _) = Self.history(values, steps: steps, settings: first)
        var detector = KLExplosionDetector(settings: second)
        var visited = 0
        history.replay(with: &detector) { index, _ in
            #expect(index == visited)
            visited += 1
        }
        let (fresh, _) = Self.history(values, steps: steps, settings: second)
        #expect(visited == 3000)
        for index in 0..<3000 {
            #expect(history.status(at: index) == fresh.status(at: index))
            #expect(history.band(at: index).mean.bitPattern == fresh.band(at: index).mean.bitPattern)
        }
        #expect(history.summary(of: 0..<3000) == fresh.summary(of: 0..<3000))
        #expect(detector.samplesSeen == 3000)
    }
}
