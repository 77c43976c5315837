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
        #expect(Cell("漢").glyph == "?")  // two columns wide: only Grid.write places those, as two cells
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
        for width in 2...60 {
            let lines = Fit.wrap(action, firstWidth: width, width: width)
            #expect(lines.allSatisfy { $0.unicodeScalars.count <= width })
            #expect(lines.joined().filter { $0 != " " } == action.filter { $0 != " " })
        }
    }

    @Test func wideScalarsTakeTwoCellsAndRowsKeepTheirWidth() {
        var grid = Grid(width: 8, height: 1)
        let clip = Rect(x: 0, y: 0, width: 8, height: 1)
        #expect(grid.write("a漢字b", x: 0, y: 0, clip: clip) == 6)
        #expect(grid.textLines() == ["a漢字b  "])
        #expect(
            grid.cells.map(\.kind) == [
                .single, .wide, .continuation, .wide, .continuation, .single, .single, .single,
            ])
        #expect(grid.isWellFormed)
        // Cut in half by the clip: `?`, never half a glyph.
        var cut = Grid(width: 4, height: 1)
        cut.write("ab漢", x: 0, y: 0, clip: Rect(x: 0, y: 0, width: 3, height: 1))
        #expect(cut.textLines() == ["ab? "] && cut.isWellFormed)
        // Writing over either half blanks the other.
        grid[2, 0] = Cell("x")
        #expect(grid.textLines() == ["a x字b  "] && grid.isWellFormed)
        grid[3, 0] = Cell("y")
        #expect(grid.textLines() == ["a xy b  "] && grid.isWellFormed)
    }

    @Test func theWidthTableIsGlibcsForTheScalarsTheReviewerFound() {
        // Yijing hexagrams, heavy equals sign, Katakana minor extensions, Tangut components supplement.
        for scalar: UInt32 in [0x4DC0, 0x4DFF, 0x1F7F0, 0x1AFF0, 0x1AFFE, 0x18D00, 0x18D08, 0x6F22, 0xAC00] {
            #expect(CellWidth.isWide(scalar), "U+\(String(scalar, radix: 16))")
        }
        // Text-presentation emoji and symbols glibc counts as one column.
        for scalar: UInt32 in [0x1F321, 0x1F336, 0x2600, 0x263A, 0x2800, 0x41] {
            #expect(!CellWidth.isWide(scalar), "U+\(String(scalar, radix: 16))")
        }
        #expect(Fit.truncate("漢字漢字", to: 4) == "漢…")
        #expect(Fit.truncate("a漢字", to: 3) == "a…")
        #expect(Fit.padLeft("漢", to: 4) == "  漢")
        #expect(CellWidth.columns("a🟰🟰🟰b.jsonl") == 14)
    }

    @Test func asciiReplacesAWideGlyphWithTwoQuestionMarks() {
        var grid = Grid(width: 5, height: 1)
        grid.write("漢a字", x: 0, y: 0, clip: Rect(x: 0, y: 0, width: 5, height: 1))
        grid.transliterateToASCII()
        #expect(grid.textLines() == ["??a??"])
        #expect(grid.cells.allSatisfy { $0.kind == .single && $0.glyph.isASCII })
    }

    @Test(arguments: 0..<20) func applyingTheDiffReproducesGridsWithWideGlyphs(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let width = Int.random(in: 2...30, using: &random)
        let texts = ["漢", "字a", "🟰", "ab", "⣿", " ", "x漢y"]
        func randomGrid() -> Grid {
            var grid = Grid(width: width, height: 3)
            let clip = Rect(x: 0, y: 0, width: width, height: 3)
            for _ in 0..<Int.random(in: 0...20, using: &random) {
                grid.write(
                    texts.randomElement(using: &random) ?? "", x: Int.random(in: -1..<width, using: &random),
                    y: Int.random(in: 0..<3, using: &random),
                    role: ColorRole.allCases.randomElement(using: &random) ?? .text, clip: clip)
            }
            return grid
        }
        let before = randomGrid()
        let after = randomGrid()
        #expect(before.isWellFormed && after.isWellFormed)
        #expect(before.applying(after.diff(from: before)) == after)
    }
}
