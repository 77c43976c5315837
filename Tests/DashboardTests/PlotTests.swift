import Testing

@testable import Dashboard

@Suite struct PlotTests {
    @Test func smoothingIsTensorBoardsDebiasedEMA() {
        let smoothed = Smoothing.exponentialMovingAverage([1, 2, .nan, 3], weight: 0.6)
        #expect(smoothed[0] == 1)  // 0.4·1 / (1 − 0.6)
        #expect(abs(smoothed[1] - 1.625) < 1e-12)  // (0.24 + 0.8) / (1 − 0.36)
        #expect(smoothed[2].isNaN)  // passed through, and the average does not advance
        #expect(abs(smoothed[3] - 1.824 / 0.784) < 1e-12)
        #expect(Smoothing.exponentialMovingAverage([5, 5, 5], weight: 0.9) == [5, 5, 5])
        #expect(Smoothing.exponentialMovingAverage([1, 2], weight: 0) == [1, 2])
    }

    @Test func theWholeRunScaleDoublesOnlyWhenTheRunOutgrowsTheWidth() {
        #expect(XScale.wholeRun(count: 0, columns: 100).stepsPerColumn == 1)
        #expect(XScale.wholeRun(count: 100, columns: 100).stepsPerColumn == 1)
        #expect(XScale.wholeRun(count: 101, columns: 100).stepsPerColumn == 2)
        #expect(XScale.wholeRun(count: 1_000_000, columns: 100).stepsPerColumn == 16_384)
        // Between doublings a new step only ever lands in the last column in use.
        let scale = XScale.wholeRun(count: 150, columns: 100)
        #expect(scale == XScale.wholeRun(count: 200, columns: 100))
        #expect(scale.column(ofIndex: 199) == 99)
        #expect(scale.range(ofColumn: 3) == 6..<8)
    }

    @Test func theRecentStripJumpsHalfAPage() {
        #expect(XScale.recent(count: 80, columns: 100).start == 0)
        #expect(XScale.recent(count: 101, columns: 100).start == 50)
        #expect(XScale.recent(count: 150, columns: 100).start == 50)
        #expect(XScale.recent(count: 151, columns: 100).start == 100)
        let strip = XScale.recent(count: 151, columns: 100)
        #expect(strip.visibleRange(count: 151) == 100..<151)
    }

    @Test func stepTicksAreRoundStepsAtTheColumnsThatHoldThem() {
        // 8 steps a column, from step 0: ticks 100 apart (12.5 columns), at the column holding the step.
        let columns: [(first: Int64, last: Int64)?] = (0..<60).map { (Int64($0) * 8, Int64($0) * 8 + 7) }
        let placed = XTicks.place(columns: columns)
        #expect(placed.interval == 100)
        #expect(placed.ticks.map(\.step) == [0, 100, 200, 300, 400])
        #expect(placed.ticks.map(\.column) == [0, 12, 25, 37, 50])
        #expect(placed.ticks.map(\.label) == ["0", "100", "200", "300", "400"])
        // Columns without steps (the run has not reached them yet) get none.
        let half = XTicks.place(columns: Array(columns.prefix(30)) + Array(repeating: nil, count: 30))
        #expect(half.ticks.map(\.step) == [0, 100, 200])
    }

    @Test func stepTicksFollowTheStepsLoggedNotTheSampleCount() {
        // stable-baselines3 logs every 2048 timesteps, from 2048; one sample a column.
        let columns: [(first: Int64, last: Int64)?] = (1...40).map { (Int64($0) * 2048, Int64($0) * 2048) }
        let placed = XTicks.place(columns: columns)
        #expect(placed.interval == 20_000)
        #expect(placed.ticks.map(\.label) == ["20k", "40k", "60k", "80k"])
        // Each tick sits on the first column whose steps reach it: 20000 lies between 18432 and 20480.
        #expect(placed.ticks.first?.column == 9)
        // Every pair of ticks is far enough apart for its labels.
        for (a, b) in zip(placed.ticks, placed.ticks.dropFirst()) {
            #expect(b.column - a.column >= max(XTicks.minimumSpacing, a.label.count + 1 + XTicks.gap))
        }
        // A restarted run (steps going back) gets no tick where they go back.
        let restarted = columns.prefix(20) + columns.prefix(20)
        let again = XTicks.place(columns: Array(restarted))
        #expect(again.ticks.allSatisfy { $0.column < 20 })
    }

    @Test func stepLabelsAreShortAndNeverReadTheSame() {
        #expect(XTicks.label(1500, interval: 500) == "1500")
        #expect(XTicks.label(10_000, interval: 5000) == "10k")
        #expect(XTicks.label(12_500, interval: 2500) == "12.5k")
        #expect(XTicks.label(12_500, interval: 500) == "12.5k")
        #expect(XTicks.label(12_520, interval: 20) == "12.52k")
        #expect(XTicks.label(2_000_000, interval: 1_000_000) == "2M")
        #expect(XTicks.label(1_500_000_000, interval: 500_000_000) == "1.5G")
        #expect(XTicks.label(-20_000, interval: 10_000) == "-20k")
        #expect(XTicks.niceInterval(atLeast: 0.3) == 1)
        #expect(XTicks.niceInterval(atLeast: 120) == 200)
        #expect(XTicks.niceInterval(atLeast: 501) == 1000)
        #expect(XTicks.niceInterval(atLeast: 1e30) > 0, "never overflows")
        #expect(XTicks.firstMultiple(of: 10, atLeast: -15) == -10)
        #expect(XTicks.firstMultiple(of: 1000, atLeast: .max - 5) == nil)
    }

    @Test func theMiddleLabelIsARoundValue() {
        let scale = YScale.fit(minimum: 0, maximum: 0.2, isLog: false)
        #expect(scale.roundValue(near: 0.5) == 0.1)
        #expect(YScale.fit(minimum: 0, maximum: 0.15, isLog: false).roundValue(near: 0.45) == 0.05)
        let log = YScale.fit(minimum: 0.001, maximum: 1, isLog: true)
        #expect(log.roundValue(near: 0.5).map { abs($0 - 0.01) < 1e-15 || abs($0 - 0.1) < 1e-15 } == true)
        // Nothing round strictly inside: no value.
        #expect(YScale(lower: 0, upper: 1, isLog: false, tick: 1).roundValue(near: 0.5) == nil)
    }

    @Test func theVerticalScaleIsNiceAndHoldsItsValues() {
        let scale = YScale.fit(minimum: 0.013, maximum: 0.027, isLog: false)
        #expect(scale.lower <= 0.013 && scale.upper >= 0.027)
        #expect(abs(scale.lower - 0.01) < 1e-12 && abs(scale.upper - 0.03) < 1e-12, "ticks of 0.005")
        #expect(YScale.fit(minimum: 0.0131, maximum: 0.0269, isLog: false) == scale, "small changes keep it")
        #expect(scale.dotRow(0.027, dotRows: 40) == 34)
        #expect(scale.cellRow(0.01, rows: 10) == 9)
        #expect(scale.dotRow(.infinity, dotRows: 40) == 39)
        #expect(scale.dotRow(.nan, dotRows: 40) == nil)
        #expect(scale.cellRow(0.0125, rows: 10) == 8)
        let log = YScale.fit(minimum: 0.001, maximum: 1, isLog: true)
        #expect(log.lower <= -3 && log.upper >= 0)
        #expect(log.dotRow(0, dotRows: 8) == 0, "zero goes to the bottom of a log scale")
        let flat = YScale.fit(minimum: 0.02, maximum: 0.02, isLog: false)
        #expect(flat.lower < 0.02 && flat.upper > 0.02)
        #expect(
            YScale.fit(minimum: .infinity, maximum: -.infinity, isLog: false)
                == YScale(lower: 0, upper: 1, isLog: false))
    }

    @Test func brailleDotsMapToTheRightBits() {
        var canvas = DotCanvas(columns: 1, rows: 1, glyphs: .braille)
        canvas.set(x: 0, y: 3, role: .pointNormal, rank: 1)  // top left: dot 1
        canvas.set(x: 1, y: 0, role: .pointCritical, rank: 3)  // bottom right: dot 8
        var grid = Grid(width: 1, height: 1)
        canvas.draw(into: &grid, at: (0, 0)) { _ in [] }
        #expect(grid[0, 0].glyph == "\u{2881}")
        #expect(grid[0, 0].role == .pointCritical, "the worst status wins a shared cell")
        var blocks = DotCanvas(columns: 1, rows: 2, glyphs: .blocks)
        blocks.setSpan(x: 0, from: 2, to: 10, role: .pointNormal, rank: 1)
        var tall = Grid(width: 1, height: 2)
        blocks.draw(into: &tall, at: (0, 0)) { _ in [] }
        #expect(tall.textLines() == ["▃", "█"])
    }
}
