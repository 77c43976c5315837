import CNCurses
import Testing

@testable import Dashboard
@testable import TerminalUI

#if canImport(Glibc)
    import Glibc
#endif

/// The painter driving real ncurses without a terminal: output to `/dev/null`, the cells read back from
/// ncurses' own screen (`mvwin_wch`, `getcchar`). ncurses has one current screen per process, hence
/// `.serialized`.
@Suite(.serialized) final class PainterTests {
    let terminal: Terminal

    init() throws {
        // Wide characters need a UTF-8 locale (and only the character type matters here).
        setlocale(LC_CTYPE, "C.UTF-8")
        let output = try #require(fopen("/dev/null", "w"))
        let input = try #require(fopen("/dev/null", "r"))
        terminal = try Terminal(
            theme: .standard, colors: nil, terminalType: "xterm-256color", output: output, input: input)
        terminal.resize(width: 12, height: 3)
    }

    deinit { terminal.restore() }

    /// What ncurses holds, a row per line; the right half of a wide glyph is left out, as on a terminal.
    func screen(width: Int = 12, height: Int = 3) -> [String] {
        (0..<height).map { y in
            var line = String.UnicodeScalarView()
            var x = 0
            while x < width {
                let value = terminal.glyph(x: x, y: y)
                let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
                line.append(scalar)
                x += CellWidth.isWide(value) ? 2 : 1
            }
            return String(line)
        }
    }

    static func grid(_ lines: [String], width: Int = 12) -> Grid {
        var grid = Grid(width: width, height: lines.count)
        for (y, line) in lines.enumerated() {
            grid.write(line, x: 0, y: y, clip: Rect(x: 0, y: 0, width: width, height: lines.count))
        }
        return grid
    }

    @Test func aGridIsPaintedCellForCell() {
        let lines = ["kltop  σ 3  ", "⣿⣀⡇╌·═▲└─┤│ ", "CRITICAL run"]
        terminal.paint(Self.grid(lines))
        #expect(screen() == lines)
    }

    @Test func aChangedGridRepaintsOnlyWhatChangedAndComesOutRight() {
        terminal.paint(Self.grid(["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"]))
        let next = Self.grid(["aaaXaaaaaaaa", "bbbbbbbbbbbb", "cc  cccccccZ"])
        terminal.paint(next)
        #expect(screen() == next.textLines())
        // Painting the same grid again writes nothing (and changes nothing).
        terminal.paint(next)
        #expect(screen() == next.textLines())
    }

    @Test func wideGlyphsTakeTwoColumnsAndGiveThemBack() {
        let wide = Self.grid(["a漢字b🟰c", "训练-运行", "x"])
        terminal.paint(wide)
        #expect(screen() == ["a漢字b🟰c   ", "训练-运行   ", "x           "])
        #expect(screen() == wide.textLines())
        // Narrow glyphs over the halves of wide ones, and wide ones moved by a column.
        let moved = Self.grid(["ab漢c字🟰 ", "训x练-运行", "漢"])
        terminal.paint(moved)
        #expect(screen() == moved.textLines())
    }

    /// Whatever the grid's table says, a glyph the C library measures at another width is drawn as `?`
    /// (or `??` in a wide cell), so the row never shifts.
    @Test func aGlyphOfAnotherWidthThanTheGridsBecomesQuestionMarks() {
        // A C library that takes 漢 for one column and é for none.
        terminal.measure = { glyph in
            switch glyph {
            case Unicode.Scalar("漢").value: 1
            case Unicode.Scalar("é").value: 0
            default: cnc_wcwidth(glyph)
            }
        }
        terminal.paint(Self.grid(["a漢b字é", "", ""]))
        #expect(screen() == ["a??b字?     ", "            ", "            "])
        terminal.measure = { cnc_wcwidth($0) }
        // A scalar this C library does not know (assigned after its Unicode tables) is not drawn either.
        let unknown = Unicode.Scalar(0x1FAF7)!  // LEFTWARDS PUSHING HAND, Unicode 15
        if cnc_wcwidth(unknown.value) != 1 && CellWidth.isSingleColumn(unknown) {
            terminal.paint(Self.grid(["a" + String(Character(unknown)) + "b", "", ""]))
            #expect(screen()[0] == "a?b         ")
        }
    }

    /// The width table is this C library's: no scalar it draws at one width does the grid give another.
    @Test func theGridsWidthsAreTheCLibrarys() {
        var wrong: [String] = []
        for value in UInt32(0xA0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let measured = cnc_wcwidth(value)
            let grid = CellWidth.isWide(value) ? 2 : CellWidth.isSingleColumn(scalar) ? 1 : 0
            // 0 in the grid is a scalar drawn as `?`; a scalar the grid draws but the C library does not (0 or
            // -1) is drawn as `?` by the painter. Two real widths must agree.
            if grid > 0 && measured > 0 && grid != measured { wrong.append(String(value, radix: 16)) }
            if grid == 2 && measured != 2 { wrong.append(String(value, radix: 16)) }
        }
        #expect(wrong.isEmpty, "\(wrong.count) scalars: \(wrong.prefix(40))")
    }
}
