/// A rectangle of cells: what ``render(_:width:height:)`` produces and the painter copies to the terminal.
///
/// A plain value, as ratatui's `Buffer`: rendering draws into it, tests read it back as text, and the
/// painter compares it with the previous frame (``diff(from:)``) so that only changed cells are written.
public struct Grid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major, `width * height` cells.
    public private(set) var cells: [Cell]

    /// A grid of blank cells; negative sizes are taken as zero.
    public init(width: Int, height: Int, filling cell: Cell = .blank) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: cell, count: self.width * self.height)
    }

    /// The cell at column `x`, row `y`. Reading outside gives a blank; writing outside is ignored, so drawing
    /// code never has to clip by hand.
    public subscript(x: Int, y: Int) -> Cell {
        get { contains(x: x, y: y) ? cells[y * width + x] : .blank }
        set { if contains(x: x, y: y) { cells[y * width + x] = newValue } }
    }

    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Row `y`'s cells; empty outside the grid.
    public func row(_ y: Int) -> ArraySlice<Cell> {
        guard y >= 0 && y < height else { return [] }
        return cells[(y * width)..<((y + 1) * width)]
    }

    /// Each row's glyphs as a string of exactly `width` characters: for snapshot tests and logs.
    public func textLines() -> [String] {
        (0..<height).map { y in
            var line = String.UnicodeScalarView()
            for cell in row(y) { line.append(cell.glyph) }
            return String(line)
        }
    }

    /// Each row's colour roles, one letter per cell (``ColorRole/letter``): for tests of colouring.
    public func roleLines() -> [String] {
        (0..<height).map { y in String(row(y).map(\.role.letter)) }
    }
}
