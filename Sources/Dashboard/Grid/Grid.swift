/// A rectangle of cells: what ``render(_:width:height:)`` produces and the painter copies to the terminal.
///
/// A plain value, as ratatui's `Buffer`: rendering draws into it, tests read it back as text, and the
/// painter compares it with the previous frame (``diff(from:)``) so that only changed cells are written.
public struct Grid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major, `width * height` cells.
    public internal(set) var cells: [Cell]

    /// A grid of blank cells; negative sizes are taken as zero.
    public init(width: Int, height: Int, filling cell: Cell = .blank) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: cell, count: self.width * self.height)
    }

    /// The cell at column `x`, row `y`. Reading outside gives a blank; writing outside is ignored, so drawing
    /// code never has to clip by hand.
    ///
    /// Writing over half of a wide glyph blanks its other half (in the new cell's colours): a wide glyph
    /// and its continuation are always side by side, so a row never changes width.
    public subscript(x: Int, y: Int) -> Cell {
        get { contains(x: x, y: y) ? cells[y * width + x] : .blank }
        set {
            guard contains(x: x, y: y) else { return }
            let index = y * width + x
            switch cells[index].kind {
            case .single: break
            case .wide:
                if x + 1 < width {
                    cells[index + 1] = Cell(" ", role: newValue.role, attributes: newValue.attributes)
                }
            case .continuation:
                if x > 0 {
                    cells[index - 1] = Cell(" ", role: newValue.role, attributes: newValue.attributes)
                }
            }
            cells[index] = newValue
        }
    }

    /// Puts a wide glyph's two cells at (x, y) and (x + 1, y), when both are inside the grid.
    mutating func placeWide(_ pair: (Cell, Cell), x: Int, y: Int) {
        guard contains(x: x, y: y), contains(x: x + 1, y: y) else { return }
        self[x, y] = pair.0
        self[x + 1, y] = pair.1
    }

    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Row `y`'s cells; empty outside the grid.
    public func row(_ y: Int) -> ArraySlice<Cell> {
        guard y >= 0 && y < height else { return [] }
        return cells[(y * width)..<((y + 1) * width)]
    }

    /// Each row's glyphs as a string exactly `width` columns wide (a wide glyph's continuation adds nothing):
    /// for snapshot tests and logs.
    public func textLines() -> [String] {
        (0..<height).map { y in
            var line = String.UnicodeScalarView()
            for cell in row(y) where cell.kind != .continuation { line.append(cell.glyph) }
            return String(line)
        }
    }

    /// Each row's colour roles, one letter per cell (``ColorRole/letter``): for tests of colouring.
    public func roleLines() -> [String] {
        (0..<height).map { y in String(row(y).map(\.role.letter)) }
    }
}
