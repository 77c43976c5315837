/// Text attributes a cell is drawn with, on top of what its theme role adds.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = CellAttributes(rawValue: 1 << 0)
    public static let reverse = CellAttributes(rawValue: 1 << 1)
    public static let underline = CellAttributes(rawValue: 1 << 2)
    public static let dim = CellAttributes(rawValue: 1 << 3)
}

/// One terminal cell: a glyph one column wide, the semantic colour it is drawn in, and attributes.
///
/// Cells never hold control characters or glyphs that take zero or two columns: ``init(_:role:attributes:)``
/// replaces those, so that whatever reaches a `Cell` can be written to a terminal as is and every row is
/// exactly as wide as the grid.
public struct Cell: Hashable, Sendable {
    public private(set) var glyph: Unicode.Scalar
    public var role: ColorRole
    public var attributes: CellAttributes

    public init(_ glyph: Unicode.Scalar, role: ColorRole = .text, attributes: CellAttributes = []) {
        self.glyph = CellWidth.isSingleColumn(glyph) ? glyph : CellWidth.replacement
        self.role = role
        self.attributes = attributes
    }

    /// A space in the plain text role: what an empty screen is made of.
    public static let blank = Cell(" ")
}

/// Which scalars occupy exactly one terminal column.
///
/// A pure approximation of `wcwidth` (which depends on the C locale): controls, combining marks and other
/// zero-width scalars, and the East Asian wide and fullwidth blocks (CJK, Hangul, most emoji) are not one
/// column. Log strings are shown with those replaced by `?` rather than risk a row that is one column
/// too long and shifts everything after it.
enum CellWidth {
    static let replacement: Unicode.Scalar = "?"

    static func isSingleColumn(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x7F { return v >= 0x20 }  // printable ASCII: the common case, decided first
        if v < 0xA0 { return false }  // DEL and the C1 controls
        // Bidirectional overrides are format characters: excluded with the zero-width categories below.
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .spacingMark, .format, .control, .lineSeparator,
            .paragraphSeparator, .surrogate, .unassigned, .privateUse:
            return false
        default: break
        }
        return !isWide(v)
    }

    /// East Asian Wide (W) and Fullwidth (F) ranges, and the emoji presentation blocks.
    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
            0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB,
            0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F5, 0x26FA, 0x26FD,
            0x2705, 0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797,
            0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55, 0x2E80...0x303E, 0x3041...0x33FF,
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
            0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF, 0x1F004, 0x1F0CF, 0x1F18E,
            0x1F191...0x1F19A, 0x1F200...0x1F2FF, 0x1F300...0x1F64F, 0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB,
            0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
