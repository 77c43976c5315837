import TestSupport
import Testing

@testable import Dashboard

@Suite struct GridTests {
    @Test func cellsReplaceControlAndWideCharacters() {
        #expect(Cell("\u{1B}").glyph == "?")
        #expect(Cell("\u{7}").glyph == "?")
        #expect(Cell("\u{9B}").glyph == "?")  // C1 CSI
        #expect(Cell("\u{202E}").glyph == "?")  // right-to-left override
        #expect(Cell("\u{0301}").glyph == "?")  // combining acute: zero width
        #expect(Cell("漢").glyph == "?")  // two columns wide
        #expect(Cell("⣿").glyph == "⣿")
        #expect(Cell("é").glyph == "é")
        #expect(Cell("σ").glyph == "σ")
    }

    @Test func textLinesAreExactlyTheGridsWidth() {
        var grid = Grid(width: 5, height: 2)
        grid.write("abcdefgh", x: 2, y: 1, clip: Rect(x: 0, y: 0, width: 5, height: 2))
        grid.write("\u{1B}[31mred", x: 0, y: 0, clip: Rect(x: 0, y: 0, width: 5, height: 2))
        #expect(grid.textLines() == ["?[31m", "  abc"])
    }

    @Test func outOfBoundsWritesAreIgnoredAndReadsAreBlank() {
        var grid = Grid(width: 2, height: 2)
        grid[5, 0] = Cell("x")
        grid[-1, 1] = Cell("x")
        #expect(grid[5, 0] == .blank)
        #expect(grid.textLines() == ["  ", "  "])
        #expect(Grid(width: -3, height: 4).cells.isEmpty)
        #expect(grid.row(7).isEmpty)
    }

    @Test func diffFindsExactlyTheChangedRuns() {
        let before = Grid(width: 6, height: 2)
        var after = before
        after[1, 0] = Cell("a")
        after[2, 0] = Cell("b")
        after[4, 0] = Cell("c", role: .band)
        after[0, 1] = Cell(" ", role: .header)
        let runs = after.diff(from: before)
        #expect(runs.map(\.x) == [1, 4, 0])
        #expect(runs.map(\.y) == [0, 0, 1])
        #expect(runs.cellCount == 4)
        #expect(after.diff(from: after).isEmpty)
    }

    @Test func aResizeRewritesEveryRow() {
        let runs = Grid(width: 3, height: 2).diff(from: Grid(width: 2, height: 2))
        #expect(runs.count == 2 && runs.cellCount == 6)
    }

    @Test(arguments: 0..<20) func applyingTheDiffReproducesTheGrid(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let width = Int.random(in: 1...30, using: &random)
        let height = Int.random(in: 1...10, using: &random)
        let glyphs: [Unicode.Scalar] = [" ", "a", "⣿", "·"]
        func randomGrid() -> Grid {
            var grid = Grid(width: width, height: height)
            for y in 0..<height {
                for x in 0..<width where Bool.random(using: &random) {
                    grid[x, y] = Cell(
                        glyphs.randomElement(using: &random) ?? " ",
                        role: ColorRole.allCases.randomElement(using: &random) ?? .text)
                }
            }
            return grid
        }
        let before = randomGrid()
        let after = randomGrid()
        #expect(before.applying(after.diff(from: before)) == after)
    }

    @Test func wrapBreaksAtSpacesAndSplitsWordsLongerThanALine() {
        #expect(Fit.wrap("one two three four", firstWidth: 7, width: 9) == ["one two", "three", "four"])
        #expect(Fit.wrap("abcdefghij", firstWidth: 4, width: 4) == ["abcd", "efgh", "ij"])
        #expect(Fit.wrap("", firstWidth: 4, width: 4) == [""])
        #expect(Fit.wrap("a  b", firstWidth: 0, width: 3) == ["a", "b"])
        let action = "Immediately reduce learning rate or increase KL penalty."
        for width in 1...60 {
            let lines = Fit.wrap(action, firstWidth: width, width: width)
            #expect(lines.allSatisfy { $0.unicodeScalars.count <= width })
            #expect(lines.joined().filter { $0 != " " } == action.filter { $0 != " " })
        }
    }
}
