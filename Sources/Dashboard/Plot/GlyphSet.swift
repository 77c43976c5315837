/// Which characters the plot is drawn with; the terminal layer picks one from the locale and `--ascii`.
public enum GlyphSet: String, CaseIterable, Sendable {
    /// Braille patterns (U+2800…): 2×4 dots per cell. Needs a UTF-8 locale and a font with the block.
    case braille
    /// Eighth blocks (▁▂▃▄▅▆▇█): one column per cell, 8 levels. For fonts without braille.
    case blocks
    /// Pure ASCII: one column per cell, 3 levels (`.` `-` `'`, `|` for several). For `LC_ALL=C` and
    /// `--ascii`; the band (`:`) and the critical line (`~`) use characters no point uses, so they can be
    /// told from the data without colours.
    case ascii

    /// Dot columns per cell.
    var dotsAcross: Int { self == .braille ? 2 : 1 }

    /// Dot rows per cell.
    var dotsDown: Int {
        switch self {
        case .braille: 4
        case .blocks: 8
        case .ascii: 3
        }
    }

    /// The glyph for a cell whose dots are `bits` (see ``DotCanvas``); nil when no dot is set.
    func glyph(bits: UInt8) -> Unicode.Scalar? {
        guard bits != 0 else { return nil }
        switch self {
        case .braille:
            return Unicode.Scalar(0x2800 + UInt32(bits)) ?? "?"
        case .blocks:
            // Bit n is the nth eighth from the bottom; the block reaches up to the highest one.
            let highest = 7 - bits.leadingZeroBitCount
            return Self.eighths[highest]
        case .ascii:
            if bits.nonzeroBitCount > 1 { return "|" }
            return bits == 1 ? "." : bits == 2 ? "-" : "'"
        }
    }

    static let eighths: [Unicode.Scalar] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// Filler for cells inside the mean ± k·σ band.
    var bandFill: Unicode.Scalar { self == .ascii ? ":" : "·" }
    /// The critical line, mean + 1.5·k·σ.
    var criticalLine: Unicode.Scalar { self == .ascii ? "~" : "╌" }
    /// The frozen baseline's mean.
    var frozenLine: Unicode.Scalar { self == .ascii ? "=" : "═" }
    /// The mark on the x axis at the step where the frozen baseline locked.
    var lockMark: Unicode.Scalar { self == .ascii ? "^" : "▲" }
    /// Before the value of a point beyond the top of the scale, at the plot's top edge.
    var aboveMark: Unicode.Scalar { self == .ascii ? "^" : "▲" }
    /// Before the value of a point below the bottom of the scale, at the plot's bottom edge.
    var belowMark: Unicode.Scalar { self == .ascii ? "v" : "▼" }
    var horizontalAxis: Unicode.Scalar { self == .ascii ? "-" : "─" }
    var verticalAxis: Unicode.Scalar { self == .ascii ? "|" : "│" }
    var tick: Unicode.Scalar { self == .ascii ? "+" : "┤" }
    var corner: Unicode.Scalar { self == .ascii ? "+" : "└" }
    /// A step tick on the x axis, its label to its right.
    var axisTick: Unicode.Scalar { self == .ascii ? "+" : "┴" }
    /// The status mark before a run's name.
    var statusMark: Unicode.Scalar { self == .ascii ? "*" : "●" }
    var ellipsis: Unicode.Scalar { self == .ascii ? "~" : "…" }
    var separator: String { self == .ascii ? " - " : " — " }

    // Words for the Greek letters in ASCII, where transliterating them would read badly (`σ 3` as `s 3`).

    /// The sigma multiplier in the status bar (`σ 3`, or `sigma 3` as the `--sigma` option says).
    var sigmaSetting: String { self == .ascii ? "sigma" : "σ" }
    /// The baseline's mean and standard deviation in headers and the alert history.
    var meanLabel: String { self == .ascii ? "mean" : "μ" }
    var deviationLabel: String { self == .ascii ? "sd" : "σ" }
    var plusMinus: String { self == .ascii ? "+/-" : "±" }
    var times: String { self == .ascii ? "*" : "·" }
}
