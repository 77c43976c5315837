/// A rectangle of a grid, in cells. Layout hands these out; drawing code stays inside the one it is given.
public struct Rect: Equatable, Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    /// Negative sizes are taken as zero, so that layout arithmetic can never produce an impossible rect.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var isEmpty: Bool { width == 0 || height == 0 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    /// The top `rows` rows (at most all of them).
    func top(_ rows: Int) -> Rect { Rect(x: x, y: y, width: width, height: min(max(0, rows), height)) }

    /// Everything below the top `rows` rows.
    func droppingTop(_ rows: Int) -> Rect {
        let taken = min(max(0, rows), height)
        return Rect(x: x, y: y + taken, width: width, height: height - taken)
    }

    /// The bottom `rows` rows.
    func bottom(_ rows: Int) -> Rect {
        let taken = min(max(0, rows), height)
        return Rect(x: x, y: maxY - taken, width: width, height: taken)
    }

    func droppingBottom(_ rows: Int) -> Rect {
        Rect(x: x, y: y, width: width, height: height - min(max(0, rows), height))
    }

    func droppingLeft(_ columns: Int) -> Rect {
        let taken = min(max(0, columns), width)
        return Rect(x: x + taken, y: y, width: width - taken, height: height)
    }

    func droppingRight(_ columns: Int) -> Rect {
        Rect(x: x, y: y, width: width - min(max(0, columns), width), height: height)
    }

    /// Row `index` of this rect as a one-row rect (empty outside).
    func row(_ index: Int) -> Rect {
        guard index >= 0 && index < height else { return Rect(x: x, y: y, width: 0, height: 0) }
        return Rect(x: x, y: y + index, width: width, height: 1)
    }
}
