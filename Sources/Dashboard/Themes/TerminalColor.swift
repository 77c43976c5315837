/// How many colours the terminal can show; the painter decides (from `has_colors`, `COLORS`, `NO_COLOR`,
/// `--no-color`) and asks the theme for that depth.
public enum ColorDepth: String, CaseIterable, Sendable {
    case none
    case colors8
    case colors256
}

/// A terminal palette index: 0–7 the basic colours, 0–255 on a 256-colour terminal.
public struct TerminalColor: Hashable, Sendable, CustomStringConvertible {
    public var index: UInt8

    public init(_ index: UInt8) { self.index = index }

    /// The eight basic colours, by their curses names and numbers.
    public static let basicNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    public var description: String {
        index < 8 ? Self.basicNames[Int(index)] : String(index)
    }

    /// The nearest of the eight basic colours, for a theme that gives only a 256-colour value.
    public var nearestBasic: TerminalColor {
        let i = Int(index)
        if i < 16 { return TerminalColor(UInt8(i % 8)) }
        if i >= 232 { return TerminalColor(i >= 244 ? 7 : 0) }
        let cube = i - 16
        let (r, g, b) = (cube / 36, (cube / 6) % 6, cube % 6)
        let top = max(r, g, b)
        if top <= 1 { return TerminalColor(0) }
        // A channel counts when it is near the brightest one: (5,2,0) is red-orange → red, (4,4,1) yellow.
        let bits =
            (r * 2 >= top * 2 - 1 ? 1 : 0) | (g * 2 >= top * 2 - 1 ? 2 : 0) | (b * 2 >= top * 2 - 1 ? 4 : 0)
        return TerminalColor(UInt8(bits))
    }
}

/// What the painter draws a cell with: colours (nil is the terminal's default) and attributes.
public struct Style: Hashable, Sendable {
    public var foreground: TerminalColor?
    public var background: TerminalColor?
    public var attributes: CellAttributes

    public init(
        foreground: TerminalColor? = nil, background: TerminalColor? = nil, attributes: CellAttributes = []
    ) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }
}
