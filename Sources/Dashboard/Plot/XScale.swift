/// Which history indices each dot column of a plot shows.
///
/// Both modes keep most columns still as steps arrive, so a new step changes O(1) cells of the screen:
/// - whole run: `stepsPerColumn` is the smallest power of two that fits the run; a new step lands in the
///   last column in use, and only when the run outgrows the width does the scale double (every column
///   changes, once per doubling);
/// - recent: one step per column over the last `columns` steps, jumping half a page when the strip is
///   full instead of scrolling by one step (which would change every column on every step).
struct XScale: Equatable {
    /// The first history index shown.
    let start: Int
    let stepsPerColumn: Int
    let columns: Int

    static func wholeRun(count: Int, columns: Int) -> XScale {
        var perColumn = 1
        let usable = max(1, columns)
        while perColumn < Int.max / 4 && (count + perColumn - 1) / perColumn > usable { perColumn *= 2 }
        return XScale(start: 0, stepsPerColumn: perColumn, columns: columns)
    }

    static func recent(count: Int, columns: Int) -> XScale {
        let usable = max(1, columns)
        guard count > usable else { return XScale(start: 0, stepsPerColumn: 1, columns: columns) }
        let page = max(1, usable / 2)
        let start = (count - usable + page - 1) / page * page
        return XScale(start: start, stepsPerColumn: 1, columns: columns)
    }

    /// History indices of dot column `column`.
    func range(ofColumn column: Int) -> Range<Int> {
        let lower = start + column * stepsPerColumn
        return lower..<(lower + stepsPerColumn)
    }

    /// The dot column showing history index `index`, if shown.
    func column(ofIndex index: Int) -> Int? {
        guard index >= start else { return nil }
        let column = (index - start) / stepsPerColumn
        return column < columns ? column : nil
    }

    /// The history indices the plot covers, up to `count`.
    func visibleRange(count: Int) -> Range<Int> {
        let upper = min(count, start + columns * stepsPerColumn)
        return min(start, upper)..<upper
    }
}
