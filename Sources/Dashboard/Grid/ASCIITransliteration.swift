extension Grid {
    /// Replaces every non-ASCII glyph with an ASCII look-alike (`·` → `*`, `═` → `=`), or `?` (`??` for a
    /// glyph two columns wide).
    ///
    /// For terminals that cannot show anything else (`LC_ALL=C`, `--ascii`): done once over the finished
    /// grid, so that log strings need no ASCII variants of their own. One cell for one, so widths never
    /// change.
    mutating func transliterateToASCII() {
        for index in cells.indices where !cells[index].glyph.isASCII || cells[index].kind != .single {
            let cell = cells[index]
            let glyph = cell.kind == .single ? Self.asciiLookAlike(cell.glyph) : CellWidth.replacement
            // Straight into the array: the subscript would blank the other half of a wide pair.
            cells[index] = Cell(glyph, role: cell.role, attributes: cell.attributes)
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
