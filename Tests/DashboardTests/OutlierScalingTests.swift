import KLDetector
import RunLogs
import Testing

@testable import Dashboard

/// "Ignore outliers in chart scaling", on by default: the y axis fits the bulk of the values, what lies
/// beyond is a mark at the edge with its value, and `y` puts every value back in the scale.
@Suite struct OutlierScalingTests {
    /// Values near 0.02 with one logged 40 at `index` (and optionally more).
    static func glitched(_ outliers: [Int: Double], count: Int = 1000) -> [MetricSample] {
        Series.healthy(count: count, seed: 3).enumerated().map { index, sample in
            MetricSample(step: sample.step, value: outliers[index] ?? sample.value)
        }
    }

    /// The plot rows of the first panel: below its header, down to the axis.
    static func plotRows(_ grid: Grid, glyphs: GlyphSet = .braille) -> [String] {
        let lines = grid.textLines()
        guard let header = lines.firstIndex(where: { $0.hasPrefix("\(glyphs.statusMark) ") }) else {
            return []
        }
        let axis = String(repeating: " ", count: 9) + String(glyphs.corner)
        return Array(lines[(header + 1)...].prefix(while: { !$0.hasPrefix(axis) }))
    }

    /// The value of the first panel's top y label.
    static func topLabel(_ grid: Grid, glyphs: GlyphSet = .braille) -> Double {
        guard let top = plotRows(grid, glyphs: glyphs).first else { return .nan }
        return Double(top.prefix(9).trimmingCharacters(in: .whitespaces)) ?? .nan
    }

    /// The column (from the plot's left edge) where the x axis ticks `step`, if it has that tick.
    static func axisColumn(of step: String, _ grid: Grid, glyphs: GlyphSet) -> Int? {
        let corner = String(repeating: " ", count: 9) + String(glyphs.corner)
        guard let axis = grid.textLines().last(where: { $0.hasPrefix(corner) }),
            let range = axis.range(of: "\(glyphs.axisTick)\(step)")
        else { return nil }
        return axis.distance(from: axis.startIndex, to: range.lowerBound) - 10
    }

    @Test(arguments: [GlyphSet.braille, .blocks, .ascii])
    func oneGlitchDoesNotFlattenTheRun(glyphs: GlyphSet) throws {
        var state = DashboardState.with(
            [("a", Self.glitched([500: 40]))], options: ViewOptions(glyphs: glyphs))
        let robust = render(state, width: 120, height: 40)
        let top = Self.topLabel(robust, glyphs: glyphs)
        #expect(top < 0.1, "the axis fits the values near 0.02, not the 40: top label \(top)")
        let rows = Self.plotRows(robust, glyphs: glyphs)
        let mark = "\(glyphs.aboveMark)40"
        let topRow = try #require(rows.first)
        #expect(topRow.contains(mark), "the top row marks the 40: \(topRow)")
        #expect(rows.dropFirst().allSatisfy { !$0.contains(String(glyphs.aboveMark)) })
        // The mark sits where step 500 is: between the axis' 400 and 600 ticks.
        let markRange = try #require(topRow.range(of: mark))
        let position = topRow.distance(from: topRow.startIndex, to: markRange.lowerBound) - 10
        let from = try #require(Self.axisColumn(of: "400", robust, glyphs: glyphs))
        let to = try #require(Self.axisColumn(of: "600", robust, glyphs: glyphs))
        #expect(
            position > from && position < to, "the mark at column \(position), 400 at \(from), 600 at \(to)")

        state.press("y")
        let full = render(state, width: 120, height: 40)
        #expect(Self.topLabel(full, glyphs: glyphs) >= 40)
        #expect(!Self.plotRows(full, glyphs: glyphs).joined().contains(mark), "every value in the scale")
        #expect(full.textLines()[0].contains("full range"))
        #expect(!robust.textLines()[0].contains("full range"))
    }

    @Test func theBannerAndHeaderStillSayTheTrueValue() {
        let state = DashboardState.with([("a", Self.glitched([999: 40]))])
        let text = render(state, width: 120, height: 40).text
        #expect(text.contains("CRITICAL"))
        #expect(text.contains("KL 40"), "\(text)")
    }

    /// What rises and stays is the run, not an outlier: a trend, an explosion that lasts.
    @Test func aTrendOrALastingExplosionStaysOnTheScale() {
        let trend = (0..<1000).map { MetricSample(step: Int64($0), value: 0.01 + 0.001 * Double($0)) }
        let rising = render(DashboardState.with([("trend", trend)]), width: 120, height: 40)
        #expect(Self.topLabel(rising) >= 1.0)
        #expect(!Self.plotRows(rising).joined().contains("▲"))

        let lasting = Dictionary(uniqueKeysWithValues: (900..<1000).map { ($0, 5.0) })
        let exploded = render(DashboardState.with([("boom", Self.glitched(lasting))]), width: 120, height: 40)
        #expect(Self.topLabel(exploded) >= 5.0)
        #expect(!Self.plotRows(exploded).joined().contains("▲"))
    }

    @Test func anInfiniteValueIsMarkedInEitherMode() {
        var state = DashboardState.with([("a", Self.glitched([300: .infinity]))])
        #expect(Self.plotRows(render(state, width: 120, height: 40)).first?.contains("▲inf") == true)
        state.press("y")
        #expect(Self.plotRows(render(state, width: 120, height: 40)).first?.contains("▲inf") == true)
    }

    @Test func aValueFarBelowIsMarkedAtTheBottom() {
        let state = DashboardState.with([("a", Self.glitched([200: -30]))])
        let rows = Self.plotRows(render(state, width: 120, height: 40))
        #expect(rows.last?.contains("▼-30") == true, "\(rows.last ?? "")")
        #expect(Self.topLabel(render(state, width: 120, height: 40)) < 0.1)
    }

    /// Two outliers two cell columns apart (16 steps a column): the more extreme keeps its label, both keep their marks, no label is
    /// written over the other's mark.
    @Test func labelsThatWouldCollideGoToTheMoreExtreme() throws {
        let state = DashboardState.with([("a", Self.glitched([500: 40, 540: 25]))])
        let top = try #require(Self.plotRows(render(state, width: 120, height: 40)).first)
        #expect(top.filter { $0 == "▲" }.count == 2, "\(top)")
        #expect(top.contains("40"), "\(top)")
        #expect(!top.contains("25") || top.contains("25▲") || top.contains("▲25"), "\(top)")
    }

    @Test func plotExtentLeavesOutOnlyWhatIsRareAndFar() {
        var extent = PlotExtent(isLog: false)
        for index in 0..<100 {
            let value = index == 50 ? 40 : 0.02
            extent.includeColumn(minimum: value, maximum: value)
        }
        extent.includeMarker(0.02)
        #expect(extent.bounds(ignoringOutliers: false).high == 40)
        #expect(extent.bounds(ignoringOutliers: true).high < 0.1)
        // Three such columns in a hundred are more than 2% of them: a pattern, kept in the scale.
        var three = PlotExtent(isLog: false)
        for index in 0..<100 {
            let value = [10, 50, 90].contains(index) ? 40 : 0.02
            three.includeColumn(minimum: value, maximum: value)
        }
        #expect(three.bounds(ignoringOutliers: true).high == 40)
    }
}
