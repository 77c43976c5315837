/// A horizontal run of cells that changed between two frames: the painter moves to (x, y) once and writes
/// `cells` in order.
public struct ChangedRun: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var cells: [Cell]

    public init(x: Int, y: Int, cells: [Cell]) {
        self.x = x
        self.y = y
        self.cells = cells
    }
}

extension Grid {
    /// The runs of cells in this grid that differ from `previous`, row by row, left to right.
    ///
    /// When the sizes differ (a resize) every row is one run: the whole screen must be written anyway.
    /// Equal cells are never written, so an idle screen costs nothing and a new step costs the few cells
    /// its column changed.
    public func diff(from previous: Grid) -> [ChangedRun] {
        guard previous.width == width && previous.height == height else {
            return (0..<height).compactMap { y in
                width > 0 ? ChangedRun(x: 0, y: y, cells: Array(row(y))) : nil
            }
        }
        var runs: [ChangedRun] = []
        for y in 0..<height {
            var x = 0
            let base = y * width
            while x < width {
                guard cells[base + x] != previous.cells[base + x] else {
                    x += 1
                    continue
                }
                let start = x
                while x < width && cells[base + x] != previous.cells[base + x] { x += 1 }
                runs.append(ChangedRun(x: start, y: y, cells: Array(cells[(base + start)..<(base + x)])))
            }
        }
        return runs
    }

    /// Writes the runs into this grid: `previous.applying(current.diff(from: previous)) == current` when
    /// the sizes match. What a painter does, as a value; the tests hold ``diff(from:)`` to it.
    public func applying(_ runs: [ChangedRun]) -> Grid {
        var result = self
        for run in runs {
            for (offset, cell) in run.cells.enumerated() { result[run.x + offset, run.y] = cell }
        }
        return result
    }
}

extension Array where Element == ChangedRun {
    /// How many cells the runs write.
    public var cellCount: Int { reduce(0) { $0 + $1.cells.count } }
}
