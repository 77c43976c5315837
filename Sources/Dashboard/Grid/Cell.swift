/// Text attributes a cell is drawn with, on top of what its theme role adds.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = CellAttributes(rawValue: 1 << 0)
    public static let reverse = CellAttributes(rawValue: 1 << 1)
    public static let underline = CellAttributes(rawValue: 1 << 2)
    public static let dim = CellAttributes(rawValue: 1 << 3)
}

/// One terminal cell: a glyph, the semantic colour it is drawn in, and attributes.
///
/// Most cells hold a glyph one column wide. A glyph two columns wide (CJK, most emoji) takes two cells:
/// the left one holds it (``Kind-swift.enum/wide``), the right one is its ``Kind-swift.enum/continuation``,
/// which draws nothing of its own; ``Grid`` keeps the two together. Cells never hold control characters or
/// zero-width glyphs: ``init(_:role:attributes:)`` replaces those (and wide glyphs, which only
/// ``Grid/write(_:x:y:role:attributes:clip:)`` places, as a pair), so that whatever reaches a `Cell` can be
/// written to a terminal as is and every row is exactly as wide as the grid.
public struct Cell: Hashable, Sendable {
    public private(set) var glyph: Unicode.Scalar
    public var role: ColorRole
    public var attributes: CellAttributes
    /// A role whose background shows behind the glyph, whatever the glyph's own role (the band behind a
    /// point); nil: the glyph's role decides the background too.
    public var backdrop: ColorRole?
    public private(set) var kind: Kind

    /// How many columns a cell's glyph takes.
    public enum Kind: UInt8, Hashable, Sendable {
        /// One column.
        case single
        /// The left half of a glyph two columns wide; the next cell is its continuation.
        case wide
        /// The right half of the wide glyph in the previous cell: nothing is drawn here.
        case continuation
    }

    /// A cell one column wide; anything else (controls, zero-width and wide scalars) becomes `?`.
    public init(_ glyph: Unicode.Scalar, role: ColorRole = .text, attributes: CellAttributes = []) {
        self.glyph = CellWidth.isSingleColumn(glyph) ? glyph : CellWidth.replacement
        self.role = role
        self.attributes = attributes
        kind = .single
    }

    private init(glyph: Unicode.Scalar, role: ColorRole, attributes: CellAttributes, kind: Kind) {
        self.glyph = glyph
        self.role = role
        self.attributes = attributes
        self.kind = kind
    }

    /// The two cells of a wide scalar (``CellWidth/isWide(_:)``), or nil for any other scalar.
    static func wide(_ glyph: Unicode.Scalar, role: ColorRole, attributes: CellAttributes) -> (Cell, Cell)? {
        guard CellWidth.isWide(glyph.value) else { return nil }
        return (
            Cell(glyph: glyph, role: role, attributes: attributes, kind: .wide),
            Cell(glyph: " ", role: role, attributes: attributes, kind: .continuation)
        )
    }

    /// A space in the plain text role: what an empty screen is made of.
    public static let blank = Cell(" ")
}

/// How many terminal columns scalars take.
///
/// A pure approximation of `wcwidth` (which depends on the C locale): controls, combining marks and other
/// zero-width scalars are drawn as `?` (inert, one column); the scalars glibc counts as two columns
/// (``wideRanges``, generated from glibc's own `wcwidth`) take two cells. Where the terminal's C library
/// disagrees anyway (another glibc, a scalar newer than its tables), the painter draws `?` instead, so a
/// row can never come out a column too long or too short.
public enum CellWidth {
    static let replacement: Unicode.Scalar = "?"

    /// Whether a ``Cell`` can hold `scalar` as it is: one column, printable.
    public static func isSingleColumn(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x7F { return v >= 0x20 }  // printable ASCII: the common case, decided first
        if v < 0xA0 { return false }  // DEL and the C1 controls
        // Box drawing, block elements and braille: what the plot is made of, decided before the tables.
        if (0x2500...0x259F).contains(v) || (0x2800...0x28FF).contains(v) { return true }
        // Bidirectional overrides are format characters: excluded with the zero-width categories below.
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .spacingMark, .format, .control, .lineSeparator,
            .paragraphSeparator, .surrogate, .unassigned, .privateUse:
            return false
        default: break
        }
        return !isWide(v)
    }

    /// Whether `v` is one of the scalars glibc's `wcwidth` counts as two columns.
    public static func isWide(_ v: UInt32) -> Bool {
        guard v >= 0x1100 else { return false }
        var low = 0
        var high = wideRanges.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let range = wideRanges[middle]
            if v < range.lowerBound {
                high = middle - 1
            } else if v > range.upperBound {
                low = middle + 1
            } else {
                return true
            }
        }
        return false
    }

    /// Columns `scalar` takes in a grid: 2 for a wide scalar, else 1 (itself or the `?` replacing it).
    public static func columns(_ scalar: Unicode.Scalar) -> Int {
        scalar.value < 0x1100 ? 1 : isWide(scalar.value) ? 2 : 1
    }

    /// Columns `text` takes in a grid.
    public static func columns(_ text: String) -> Int {
        var total = 0
        for scalar in text.unicodeScalars { total += columns(scalar) }
        return total
    }
}
