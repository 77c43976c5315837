extension Grid {
    /// Replaces every non-ASCII glyph with an ASCII look-alike (`σ` → `s`, `·` → `.`), or `?`.
    ///
    /// For terminals that cannot show anything else (`LC_ALL=C`, `--ascii`): done once over the finished
    /// grid, so that labels, help text and log strings need no ASCII variants of their own. One character
    /// for one, so widths never change.
    mutating func transliterateToASCII() {
        for index in cells.indices where !cells[index].glyph.isASCII {
            let cell = cells[index]
            self[index % width, index / width] = Cell(
                Self.asciiLookAlike(cell.glyph), role: cell.role, attributes: cell.attributes)
        }
    }

    static func asciiLookAlike(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar {
        case "σ": "s"
        case "μ": "u"
        case "·", "•", "●": "*"
        case "↑", "▲": "^"
        case "↓": "v"
        case "→": ">"
        case "←": "<"
        case "±": "+"
        case "═": "="
        case "─", "╌", "—", "–": "-"
        case "│", "┤": "|"
        case "└": "+"
        case "…": "~"
        case "é", "è", "ê", "ë": "e"
        default: "?"
        }
    }
}
