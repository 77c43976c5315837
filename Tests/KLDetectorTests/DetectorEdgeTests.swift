import Testing

@testable import KLDetector

/// rlwatch's edges, one by one, as small readable cases.
@Suite struct DetectorEdgeTests {
    static func feed(_ detector: inout KLExplosionDetector, _ values: [Double?], from first: Int64 = 0)
        -> [StepVerdict?]
    {
        values.enumerated().map { detector.check(step: first + Int64($0.offset), value: $0.element) }
    }

    @Test func warmupCountsSamplesNotStepNumbers() {
        var detector = KLExplosionDetector(settings: DetectorSettings(warmupSteps: 20))
        // Steps jump by 1000, so step numbers pass 20 at once; the decision still waits for 20 samples.
        for index in 0..<19 {
            let verdict = detector.check(step: Int64(index) * 1000, value: 0.02 + Double(index % 3) * 0.001)
            #expect(verdict?.status == .warmingUp)
        }
        #expect(detector.check(step: 19_000, value: 0.021)?.status == .normal)
    }

    @Test func missingValuesAreSkippedAndDoNotCount() {
        var detector = KLExplosionDetector(settings: DetectorSettings(warmupSteps: 12))
        var values: [Double?] = []
        for index in 0..<11 { values += [0.02 + Double(index % 2) * 0.001, nil] }
        let verdicts = Self.feed(&detector, values)
        #expect(
            verdicts.enumerated().allSatisfy {
                $0.offset % 2 == 1 ? $0.element == nil : $0.element?.status == .warmingUp
            })
        #expect(detector.samplesSeen == 11)
        #expect(detector.check(step: 100, value: 0.02)?.status == .normal)
    }

    @Test func aWindowUnderTenNeverDecides() {
        var detector = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 9, warmupSteps: 0))
        let verdicts = Self.feed(&detector, (0..<200).map { $0 == 150 ? 1e6 : 0.02 + Double($0 % 7) * 1e-3 })
        #expect(verdicts.allSatisfy { $0?.status == .warmingUp })
    }

    @Test func rollingBaselineExcludesTheCurrentValue() {
        var detector = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 11, warmupSteps: 0))
        let values = [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        _ = Self.feed(&detector, values.dropLast().map { $0 })
        let (mean, std) = NumpyStatistics.meanAndStandardDeviation(Array(values.dropLast()))
        // Below the threshold the figures are the running estimate, close to numpy's...
        let quiet = detector.check(step: 9, value: 10)!
        #expect(!quiet.isExact && quiet.status == .normal)
        #expect(abs(quiet.mean - mean) <= 1e-12 * mean && abs(quiet.std - std) <= 1e-12 * std)
        // ...and on a step that fires they are numpy's exactly, when asked for.
        var again = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 11, warmupSteps: 0))
        _ = Self.feed(&again, values.dropLast().map { $0 })
        let estimated = again.check(step: 9, value: 100)!
        let loud = again.exactFigures(for: estimated)
        #expect(loud.isExact && loud.status == .critical)
        #expect(loud.mean == mean && loud.std == std && loud.z == (100 - mean) / std)
    }

    /// A run that explodes fires on every step: those steps are decided from the running estimate, not by
    /// recomputing the window (O(window) a step), and asking for the exact figures works on any of them.
    @Test func anExplosionFiringOnEveryStepIsDecidedInConstantTime() {
        var detector = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 1000, warmupSteps: 0))
        var reference = ReferenceDetector(settings: DetectorSettings(rollingWindow: 1000, warmupSteps: 0))
        var fired = 0
        var recomputed = 0
        var growth = 1.0
        for index in 0..<4000 {
            if index >= 1500 { growth *= 1.01 }
            let value = (0.02 + 0.001 * Double(index % 7)) * growth
            let verdict = detector.check(step: Int64(index), value: value)!
            let expected = reference.check(step: Int64(index), value: value)!
            #expect(verdict.status == expected.status, "step \(index)")
            guard verdict.status >= .warning else { continue }
            fired += 1
            if verdict.isExact { recomputed += 1 }
            if index % 97 == 0 {
                let exact = detector.exactFigures(for: verdict)
                #expect(exact.mean == expected.mean && exact.std == expected.std && exact.z == expected.z)
            }
        }
        #expect(fired > 2000)
        #expect(recomputed * 100 < fired, "\(recomputed) of \(fired) firing steps recomputed the window")
    }

    /// A huge window on a short log takes what the log holds, not what the window could; a window beyond
    /// the largest is refused with a reason.
    @Test func aHugeWindowCostsWhatTheLogHolds() {
        let settings = DetectorSettings(rollingWindow: DetectorSettings.largestWindow, warmupSteps: 0)
        #expect(settings.problem == nil)
        var detector = KLExplosionDetector(settings: settings)
        for index in 0..<3000 {
            _ = detector.check(step: Int64(index), value: 0.02 + Double(index % 5) * 1e-3)
        }
        #expect(detector.window.storage.header <= 4096)
        #expect(detector.window.count == 3000)
        let tooLarge = DetectorSettings(rollingWindow: DetectorSettings.largestWindow + 1)
        #expect(tooLarge.problem?.contains("at most") == true)
    }

    @Test func stdIsFlooredAndComparisonsAreStrict() {
        var detector = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 20, warmupSteps: 0))
        _ = Self.feed(&detector, Array(repeating: 0.5, count: 15))
        // A constant window has std 0, floored to 1e-8: 0.5 + 3e-8 is z ≈ 3, 0.5 + 5e-8 is z ≈ 5 (critical).
        let atFloor = detector.check(step: 15, value: 0.5)!
        #expect(atFloor.std == 1e-8 && atFloor.z == 0 && atFloor.status == .normal)
        let critical = detector.check(step: 16, value: 0.5 + 5e-8)!
        #expect(critical.status == .critical)
    }

    @Test func zExactlyAtTheThresholdIsNotAWarning() {
        // A baseline of alternating 0 and 2 has mean 1 and std 1 exactly, so x = 4 is z = 3.0 exactly.
        var detector = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 11, warmupSteps: 0))
        _ = Self.feed(&detector, (0..<10).map { Double(($0 % 2) * 2) })
        let verdict = detector.check(step: 10, value: 4)!
        #expect(verdict.z == 3.0)
        #expect(verdict.status == .normal)
        var other = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 11, warmupSteps: 0))
        _ = Self.feed(&other, (0..<10).map { Double(($0 % 2) * 2) })
        #expect(other.check(step: 10, value: 4.0.nextUp)!.status == .warning)
    }

    @Test func frozenBaselineLocksOnceOverTheFullWindowIncludingTheCurrentValue() {
        var detector = KLExplosionDetector(
            settings: DetectorSettings(rollingWindow: 12, warmupSteps: 0, baselineMode: .frozen))
        let values = (0..<12).map { 0.02 + Double($0 % 4) * 0.001 }
        let verdicts = Self.feed(&detector, values, from: 100)
        #expect(verdicts[10]?.usesFrozenBaseline == false)  // window not yet full: the rolling rule
        let locked = try! #require(detector.frozenBaseline)
        let (mean, std) = NumpyStatistics.meanAndStandardDeviation(values)
        #expect(locked.mean == mean && locked.std == std && locked.lockedAtStep == 111)
        _ = Self.feed(&detector, Array(repeating: 5.0, count: 50), from: 112)
        #expect(detector.frozenBaseline == locked)  // never moves
        #expect(detector.check(step: 200, value: 5.0)?.status == .critical)
    }

    @Test func nanSilencesUntilItLeavesTheWindow() {
        var detector = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 20, warmupSteps: 0))
        let base = (0..<20).map { 0.02 + Double($0 % 5) * 0.001 }
        _ = Self.feed(&detector, base)
        #expect(detector.check(step: 20, value: .nan)?.status == .normal)
        for step in 21..<40 {
            let verdict = detector.check(step: Int64(step), value: 10)!
            #expect(verdict.z.isNaN && verdict.status == .normal, "NaN still in the window at \(step)")
        }
        // The NaN has left the 19-sample baseline: an explosion relative to recent values is visible again.
        _ = Self.feed(&detector, (0..<20).map { 0.02 + Double($0 % 5) * 0.001 }, from: 40)
        #expect(detector.check(step: 60, value: 10)?.status == .critical)
    }

    @Test func nanFrozenIntoTheBaselineSilencesForever() {
        var detector = KLExplosionDetector(
            settings: DetectorSettings(rollingWindow: 15, warmupSteps: 0, baselineMode: .frozen))
        _ = Self.feed(&detector, [.nan] + (0..<14).map { 0.02 + Double($0 % 3) * 0.001 })
        #expect(detector.frozenBaseline?.mean.isNaN == true)
        let later = Self.feed(&detector, Array(repeating: 1e9, count: 100), from: 15)
        #expect(later.allSatisfy { $0?.status == .normal })
    }

    @Test func positiveInfinityIsCriticalAndNegativeInfinityIsNot() {
        var detector = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 30, warmupSteps: 0))
        _ = Self.feed(&detector, (0..<25).map { 0.02 + Double($0 % 5) * 0.001 })
        let up = detector.check(step: 25, value: .infinity)!
        #expect(up.status == .critical && up.z == .infinity && up.isExact)
        var other = KLExplosionDetector(settings: DetectorSettings(rollingWindow: 30, warmupSteps: 0))
        _ = Self.feed(&other, (0..<25).map { 0.02 + Double($0 % 5) * 0.001 })
        #expect(other.check(step: 25, value: -.infinity)?.status == .normal)
    }

    @Test func disabledDetectorDecidesNothing() {
        var detector = KLExplosionDetector(settings: DetectorSettings(enabled: false))
        #expect(Self.feed(&detector, Array(repeating: 1.0, count: 50)).allSatisfy { $0 == nil })
    }

    @Test func settingsProblemsAreNamed() {
        #expect(DetectorSettings(rollingWindow: 0).problem?.contains("window") == true)
        #expect(DetectorSettings(rollingWindow: 333_333_333_333).problem?.contains("at most") == true)
        #expect(DetectorSettings(rollingWindow: DetectorSettings.largestWindow).problem == nil)
        #expect(DetectorSettings(sigmaMultiplier: -1).problem?.contains("sigma") == true)
        #expect(DetectorSettings(sigmaMultiplier: .nan).problem != nil)
        #expect(DetectorSettings(warmupSteps: -3).problem?.contains("warmup") == true)
        #expect(DetectorSettings().problem == nil)
    }
}
