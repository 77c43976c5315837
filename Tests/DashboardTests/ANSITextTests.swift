import Testing

@testable import Dashboard

@Suite struct ANSITextTests {
    static let theme = Theme(
        name: "t", source: "test",
        roles: [
            .text: RoleStyle(),
            .pointCritical: RoleStyle(
                foreground256: TerminalColor(196), foreground8: TerminalColor(1), attributes: .bold),
            .bandShade: RoleStyle(background256: TerminalColor(236)),
        ])

    static func grid() -> Grid {
        var grid = Grid(width: 6, height: 1)
        grid.write("ab", x: 0, y: 0, clip: Rect(x: 0, y: 0, width: 6, height: 1))
        grid[2, 0] = Cell("⣿", role: .pointCritical)
        grid[2, 0].backdrop = .bandShade
        grid.write("界", x: 3, y: 0, clip: Rect(x: 0, y: 0, width: 6, height: 1))
        return grid
    }

    @Test func eachChangeOfStyleIsOneSequenceAndAWideGlyphIsWrittenOnce() {
        let line = Self.grid().ansiLines(theme: Self.theme, depth: .colors256)[0]
        #expect(line == "\u{1B}[0mab\u{1B}[0;1;38;5;196;48;5;236m⣿\u{1B}[0m界 \u{1B}[0m")
    }

    @Test func eightColoursUseTheBasicCodesAndNoneIsPlainText() {
        let eight = Self.grid().ansiLines(theme: Self.theme, depth: .colors8)[0]
        #expect(eight.contains("\u{1B}[0;1;31;40m⣿"), "\(eight)")
        #expect(!eight.contains(";5;"))
        #expect(Self.grid().ansiLines(theme: Self.theme, depth: .none) == ["ab⣿界"])
    }
}
