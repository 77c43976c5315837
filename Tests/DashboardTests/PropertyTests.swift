import KLDetector
import RunLogs
import TestSupport
import Testing

@testable import Dashboard

/// Random event sequences and sizes: update and render never crash, and what they produce stays well
/// formed.
@Suite struct PropertyTests {
    static let keys: [Key] =
        "q?pbw+-=_[]lsxaoh".map { Key.character($0) }
        + [
            .tab, .backTab, .up, .down, .left, .right, .pageUp, .pageDown, .home, .end, .enter, .escape,
            .character("z"),
        ]

    static func randomValue(_ random: inout SeededGenerator) -> Double {
        switch Int.random(in: 0..<40, using: &random) {
        case 0: .nan
        case 1: .infinity
        case 2: -.infinity
        case 3: 1e300
        case 4: -0.5
        case 5: 0
        case 6: 5
        default: 0.02 + 0.005 * Double.random(in: -1...1, using: &random)
        }
    }

    static func randomEvent(_ random: inout SeededGenerator, time: inout Double) -> DashboardEvent {
        let id = RunID(Int.random(in: 0..<20, using: &random))
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<8:
            let names = [
                "a", "grpo\u{1B}[31m", "", "漢字-run", String(repeating: "long", count: 30), "é\u{301}",
            ]
            return .runAdded(id, name: names.randomElement(using: &random) ?? "", source: "/x\u{7}")
        case 8..<45:
            var step = Int64.random(in: 0..<1000, using: &random)
            if Int.random(in: 0..<30, using: &random) == 0 {
                step = [Int64.max, Int64.min, -1].randomElement(using: &random) ?? 0
            }
            let samples = (0..<Int.random(in: 0..<300, using: &random)).map { offset in
                MetricSample(step: step &+ Int64(offset), value: randomValue(&random))
            }
            var statistics = ReadStatistics()
            statistics.badLines = Int.random(in: 0..<3, using: &random)
            return .samplesAppended(
                id, metricKey: Bool.random(using: &random) ? "kl" : nil, samples: samples,
                statistics: statistics)
        case 45..<50:
            let statuses: [RunSourceStatus] = [.waitingForFile, .following, .unreadable("denied\u{1B}[2J")]
            return .runStatusChanged(id, statuses.randomElement(using: &random) ?? .following)
        case 50..<80:
            return .keyPressed(keys.randomElement(using: &random) ?? .tab)
        case 80..<85:
            return .resized(
                width: Int.random(in: -2...200, using: &random),
                height: Int.random(in: -2...60, using: &random))
        default:
            time += Bool.random(using: &random) ? Double.random(in: 0...0.5, using: &random) : -0.1
            return .tick(time: time)
        }
    }

    @Test(arguments: 0..<40) func randomEventsAndSizesNeverBreakTheDashboard(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var state = DashboardState(
            options: ViewOptions(glyphs: GlyphSet.allCases.randomElement(using: &random) ?? .braille))
        var time = 0.0
        var previous: Grid?
        for _ in 0..<60 {
            let event = Self.randomEvent(&random, time: &time)
            let effects = update(&state, event)
            if case .keyPressed(.character("q")) = event { #expect(effects == [.quit]) }
            #expect(state.runs.isEmpty || state.runs.indices.contains(state.focus))
            #expect(state.scroll >= 0)
            let width = Int.random(in: 0...160, using: &random)
            let height = Int.random(in: 0...50, using: &random)
            let grid = render(state, width: width, height: height)
            #expect(grid.width == width && grid.height == height && grid.cells.count == width * height)
            #expect(grid.isWellFormed)
            #expect(grid.lineColumns().allSatisfy { $0 == width })
            if state.options.glyphs == .ascii { #expect(grid.cells.allSatisfy { $0.glyph.isASCII }) }
            if let previous, previous.width == width, previous.height == height {
                #expect(previous.applying(grid.diff(from: previous)) == grid)
            }
            previous = grid
        }
    }

    @Test(arguments: 0..<5) func everySmallSizeRendersEveryScreen(seed: UInt64) {
        var state = SnapshotTests.demo(ViewOptions(glyphs: GlyphSet.allCases[Int(seed) % 3]))
        for keys in ["", "o", "x", "?", "?h", "hp", "l"] {
            state.press(keys)
            for width in 0...24 {
                for height in 0...14 {
                    let grid = render(state, width: width, height: height)
                    #expect(grid.textLines().count == height)
                }
            }
        }
    }
}
