/// A grid as lines of text for places without a terminal to drive (`kltop snapshot`): CI logs, a cron
/// mail, a message. With colours, each change of style is one SGR sequence (`ESC [ … m`), as a terminal
/// would get it; without, plain text.
extension Grid {
    /// The grid's lines, coloured by `theme` at `depth` (none: plain text, trailing blanks left out).
    public func ansiLines(theme: Theme, depth: ColorDepth) -> [String] {
        guard depth != .none else {
            return textLines().map { line in
                var line = line
                while line.last == " " { line.removeLast() }
                return line
            }
        }
        return (0..<height).map { y in
            var line = ""
            var current: Style?
            for x in 0..<width {
                let cell = self[x, y]
                if cell.kind == .continuation { continue }
                let style = theme.style(for: cell, depth: depth)
                if style != current {
                    line += Self.sgr(style, depth: depth)
                    current = style
                }
                line.unicodeScalars.append(cell.glyph)
            }
            return line + "\u{1B}[0m"
        }
    }

    /// The SGR sequence that sets exactly `style`: a reset, then its attributes and colours.
    static func sgr(_ style: Style, depth: ColorDepth) -> String {
        var parameters = ["0"]
        if style.attributes.contains(.bold) { parameters.append("1") }
        if style.attributes.contains(.dim) { parameters.append("2") }
        if style.attributes.contains(.underline) { parameters.append("4") }
        if style.attributes.contains(.reverse) { parameters.append("7") }
        func color(_ color: TerminalColor?, base: Int) -> String? {
            guard let color else { return nil }
            if depth == .colors8 || color.index < 8 { return String(base + Int(color.index % 8)) }
            return "\(base + 8);5;\(color.index)"
        }
        if let foreground = color(style.foreground, base: 30) { parameters.append(foreground) }
        if let background = color(style.background, base: 40) { parameters.append(background) }
        return "\u{1B}[" + parameters.joined(separator: ";") + "m"
    }
}
