import KLDetector
import KltopKit
import RunLogs
import Testing

@testable import Dashboard

/// The inspect cursor: `i` puts it on the focused run's last step, arrows move it a column (shift: ten),
/// the headers read the values as they were at its step, Esc leaves.
@Suite struct InspectCursorTests {
    /// A run of 1000 steps with a spike at index 450, on a 120-column screen.
    static func state(runs: [(String, [MetricSample])]? = nil) -> DashboardState {
        var state = DashboardState.with(
            runs ?? [("spiky", Series.healthy(count: 1000, seed: 5, spikeAt: 450))])
        state.send(.resized(width: 120, height: 40))
        return state
    }

    static func press(_ state: inout DashboardState, _ key: Key, times: Int = 1) {
        for _ in 0..<times { _ = update(&state, .keyPressed(key)) }
    }

    /// The verdict the detector gives at history index `index`, replayed from scratch.
    static func verdict(
        _ samples: [MetricSample], at index: Int, settings: DetectorSettings = DetectorSettings()
    ) -> StepVerdict? {
        var detector = KLExplosionDetector(settings: settings)
        var verdict: StepVerdict?
        for sample in samples[...index] { verdict = detector.check(step: sample.step, value: sample.value) }
        return verdict
    }

    static func value(at step: Int) -> Double {
        Series.healthy(count: 1000, seed: 5, spikeAt: 450)[step].value
    }

    @Test func entersOnTheLastStepAndLeavesWithEscape() throws {
        var state = Self.state()
        state.press("i")
        let cursor = try #require(state.inspect)
        #expect(cursor.step == 999)
        let reading = try #require(cursor.readings[RunID(0)])
        #expect(reading.index == 999)
        #expect(reading.verdict == state.runs[0].lastVerdict)
        let grid = render(state, width: 120, height: 40)
        #expect(grid.textLines()[0].contains("INSPECT"))
        #expect(grid.text.contains("at step 999"))
        Self.press(&state, .escape)
        #expect(state.inspect == nil)
        #expect(!render(state, width: 120, height: 40).text.contains("at step"))
    }

    /// Left moves by one cell column of the plot (16 steps a column here: 1000 steps over 105 columns of
    /// two braille dots, rounded up to a power of two per dot), shift-left by ten.
    @Test func arrowsMoveByAColumnAndShiftArrowsByTen() throws {
        var state = Self.state()
        state.press("i")
        Self.press(&state, .left)
        let one = try #require(state.inspect?.step)
        #expect((976..<992).contains(one), "one column left of 999: \(one)")
        Self.press(&state, .shiftLeft)
        let eleven = try #require(state.inspect?.step)
        #expect(((one - 160 - 15)...(one - 160 + 15)).contains(eleven), "ten columns further: \(eleven)")
        Self.press(&state, .shiftRight)
        Self.press(&state, .right)
        // Back on the last column (steps 992…999), on its most telling step: the highest value in it.
        let last = try #require(state.inspect?.step)
        #expect((992...999).contains(last), "back on the last column: \(last)")
        let highest = (992...999).max { Self.value(at: $0) < Self.value(at: $1) } ?? -1
        #expect(Int(last) == highest)
        Self.press(&state, .right, times: 3)
        #expect(state.inspect?.step == last, "the cursor stops at the last column")
        Self.press(&state, .shiftLeft, times: 20)
        #expect((0..<16).contains(state.inspect?.step ?? -1), "and at the first column")
    }

    /// On the spike's column the cursor reads the spike (the column's most severe step), and the header
    /// shows its KL, z, μ and σ exactly as the detector gave them at that step.
    @Test func theHeaderReadsTheValuesAsTheyWereAtTheCursor() throws {
        let samples = Series.healthy(count: 1000, seed: 5, spikeAt: 450)
        var state = Self.state()
        state.press("i")
        for _ in 0..<200 where state.inspect?.step ?? 0 > 460 { Self.press(&state, .left) }
        let reading = try #require(state.inspect?.readings[RunID(0)])
        #expect(reading.step == 450, "the spike's column reads the spike")
        let expected = try #require(Self.verdict(samples, at: 450))
        #expect(reading.verdict == expected)
        #expect(expected.status == .critical)
        let header = try #require(
            render(state, width: 120, height: 40).textLines().first { $0.hasPrefix("● ") })
        #expect(header.contains("at step 450"), "\(header)")
        #expect(header.contains("KL \(Figures.short(0.2))"), "\(header)")
        #expect(header.contains("z \(Figures.short(expected.z, digits: 3))"), "\(header)")
        #expect(header.contains("μ \(Figures.short(expected.mean))"), "\(header)")
        #expect(header.contains("σ \(Figures.short(expected.std))"), "\(header)")
        #expect(header.contains("CRITICAL"), "\(header)")
    }

    /// The cursor is a column in reverse video in the plot, at the column of its step, down to the axis.
    @Test func theCursorIsAReversedColumnAtItsStep() throws {
        var state = Self.state()
        state.press("i")
        for _ in 0..<200 where state.inspect?.step ?? 0 > 460 { Self.press(&state, .left) }
        let grid = render(state, width: 120, height: 40)
        let reversed = Set(
            (0..<grid.height).flatMap { y in
                (0..<grid.width).filter { grid[$0, y].attributes.contains(.reverse) && y > 4 }
            })
        #expect(reversed.count == 1, "one column: \(reversed.sorted())")
        let column = try #require(reversed.first)
        // The spike's column holds the ▲ mark of the 0.2 (an outlier at this scale).
        let top = grid.textLines().first { $0.contains("▲") } ?? ""
        let mark = try #require(top.unicodeScalars.firstIndex(of: "▲"))
        #expect(top.unicodeScalars.distance(from: top.unicodeScalars.startIndex, to: mark) == column)
    }

    /// Changing a setting re-reads the cursor's step under the new settings; another focus reads that
    /// run at the same step; every run has its reading in the overlay's legend.
    @Test func readingsFollowSettingsFocusAndTheOverlay() throws {
        var state = Self.state(runs: [
            ("a", Series.healthy(count: 600, seed: 1, spikeAt: 300)),
            ("b", Series.drift(count: 100)),
        ])
        let samples = Series.healthy(count: 600, seed: 1, spikeAt: 300)
        state.press("i")
        for _ in 0..<200 where state.inspect?.step ?? 0 > 305 { Self.press(&state, .left) }
        #expect(state.inspect?.step == 300)
        #expect(state.inspect?.readings[RunID(0)]?.verdict == Self.verdict(samples, at: 300))
        state.press("++++")
        #expect(state.settings.sigmaMultiplier > 3)
        let after = try #require(state.inspect?.readings[RunID(0)]?.verdict)
        #expect(after == Self.verdict(samples, at: 300, settings: state.settings), "read again at the new σ")
        Self.press(&state, .shiftRight, times: 10)
        #expect((592...599).contains(state.inspect?.step ?? 0), "on the last column (8 steps) again")
        Self.press(&state, .escape)
        state.press("i")
        // Run b logs steps 0, 10 … 990: at step 599 it shows step 590.
        #expect(state.inspect?.readings[RunID(1)]?.step == 590)
        Self.press(&state, .tab)
        #expect(state.inspect?.step == 599, "the cursor's step stays")
        state.press("o")
        let text = render(state, width: 120, height: 40).text
        #expect(text.contains("at step 599"), "\(text)")
        #expect(text.contains("at step 590"), "\(text)")
    }

    @Test func aRunWithNothingYetCannotBeInspected() {
        var state = DashboardState()
        state.send(.runAdded(RunID(0), name: "empty", source: "/logs/e.jsonl"))
        state.press("i")
        #expect(state.inspect == nil)
    }
}
