import KLDetector
import Testing

/// The detector is a value: a copy taken at any step, in any lane (filling, quiet rolling, after an exact
/// step, frozen), then fed a different series, must not disturb the original, and both must decide as
/// rlwatch does on their own series. The window's storage is shared between copies until one of them writes.
@Suite struct DetectorCopyTests {
    static let cases: [(window: Int, mode: BaselineMode, copyAt: Int)] = [
        (10, .rolling, 5), (10, .rolling, 37), (11, .rolling, 200), (100, .rolling, 50), (100, .rolling, 150),
        (100, .rolling, 401), (1000, .rolling, 1500), (30, .frozen, 10), (30, .frozen, 45),
    ]

    @Test(arguments: cases.indices)
    func copiesDoNotShareState(_ index: Int) {
        let (window, mode, copyAt) = Self.cases[index]
        let settings = DetectorSettings(rollingWindow: window, warmupSteps: 5, baselineMode: mode)
        var random = SplitMix64(state: UInt64(index) + 7)
        func sample(_ step: Int, spikeEvery: Int) -> Double {
            step % spikeEvery == spikeEvery - 1 ? 0.4 : 0.02 + 0.003 * random.gaussian()
        }
        var original = KLExplosionDetector(settings: settings)
        var reference = ReferenceDetector(settings: settings)
        for step in 0..<copyAt {
            let value = sample(step, spikeEvery: 97)
            _ = original.check(step: Int64(step), value: value)
            _ = reference.check(step: Int64(step), value: value)
        }
        var copy = original
        var copyReference = reference
        let length = copyAt + 3 * window + 50
        for step in copyAt..<length {
            // Interleaved, so that each write happens while the other still holds the shared storage.
            let first = sample(step, spikeEvery: 53)
            let second = sample(step, spikeEvery: 71) + 0.001
            let a = original.check(step: Int64(step), value: first)
            let b = copy.check(step: Int64(step), value: second)
            Self.expectSame(a, reference.check(step: Int64(step), value: first), "original, step \(step)")
            Self.expectSame(b, copyReference.check(step: Int64(step), value: second), "copy, step \(step)")
        }
        #expect(original.samplesSeen == length && copy.samplesSeen == length)
    }

    static func expectSame(
        _ actual: StepVerdict?, _ expected: ReferenceDetector.Decision?, _ label: String
    ) {
        guard let actual, let expected else {
            Issue.record("\(label): no verdict")
            return
        }
        #expect(actual.status == expected.status, "\(label)")
        guard actual.status != .warmingUp else { return }
        let scale = max(abs(expected.mean), expected.std)
        #expect(abs(actual.mean - expected.mean) <= 1e-9 * scale, "\(label): mean")
        #expect(abs(actual.std - expected.std) <= 1e-9 * scale, "\(label): std")
    }
}
