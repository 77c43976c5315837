/// A raster of dots over a rect of cells: ``GlyphSet/dotsAcross`` × ``GlyphSet/dotsDown`` dots per cell.
///
/// Each cell keeps the bit mask of its dots and the most important role drawn into it (a critical point
/// wins over a normal one in the same cell: a cell has one colour).
struct DotCanvas {
    let columns: Int
    let rows: Int
    let glyphs: GlyphSet
    private var bits: [UInt8]
    private var roles: [ColorRole?]
    private var ranks: [UInt8]

    init(columns: Int, rows: Int, glyphs: GlyphSet) {
        self.columns = max(0, columns)
        self.rows = max(0, rows)
        self.glyphs = glyphs
        bits = Array(repeating: 0, count: self.columns * self.rows)
        roles = Array(repeating: nil, count: self.columns * self.rows)
        ranks = Array(repeating: 0, count: self.columns * self.rows)
    }

    var dotColumns: Int { columns * glyphs.dotsAcross }
    var dotRows: Int { rows * glyphs.dotsDown }

    /// Sets the dot at dot column `x`, dot row `y` counted from the bottom. Outside the raster: ignored.
    mutating func set(x: Int, y: Int, role: ColorRole, rank: UInt8) {
        guard x >= 0, y >= 0, x < dotColumns, y < dotRows else { return }
        let cellX = x / glyphs.dotsAcross
        let rowFromBottom = y / glyphs.dotsDown
        let cellY = rows - 1 - rowFromBottom
        let index = cellY * columns + cellX
        bits[index] |= Self.bit(glyphs, dx: x % glyphs.dotsAcross, dyFromBottom: y % glyphs.dotsDown)
        if roles[index] == nil || rank >= ranks[index] {
            roles[index] = role
            ranks[index] = rank
        }
    }

    /// Sets every dot of dot column `x` from `low` to `high` (inclusive, from the bottom).
    mutating func setSpan(x: Int, from low: Int, to high: Int, role: ColorRole, rank: UInt8) {
        let bottom = max(0, min(low, high))
        let top = min(dotRows - 1, max(low, high))
        guard bottom <= top else { return }
        for y in bottom...top { set(x: x, y: y, role: role, rank: rank) }
    }

    private static func bit(_ glyphs: GlyphSet, dx: Int, dyFromBottom: Int) -> UInt8 {
        switch glyphs {
        case .braille:
            // Braille dot numbering: left column 1,2,3,7 and right column 4,5,6,8, top to bottom.
            let fromTop = 3 - dyFromBottom
            let left: [UInt8] = [0x01, 0x02, 0x04, 0x40]
            let right: [UInt8] = [0x08, 0x10, 0x20, 0x80]
            return dx == 0 ? left[fromTop] : right[fromTop]
        case .blocks, .ascii:
            return 1 << UInt8(dyFromBottom)
        }
    }

    /// Writes every cell that has a dot into `grid` at `origin`, leaving the others as they are.
    func draw(into grid: inout Grid, at origin: (x: Int, y: Int), attributes: (ColorRole) -> CellAttributes) {
        for cellY in 0..<rows {
            for cellX in 0..<columns {
                let index = cellY * columns + cellX
                guard let glyph = glyphs.glyph(bits: bits[index]), let role = roles[index] else { continue }
                grid[origin.x + cellX, origin.y + cellY] = Cell(
                    glyph, role: role, attributes: attributes(role))
            }
        }
    }
}
