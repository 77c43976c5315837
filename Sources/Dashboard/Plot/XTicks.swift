/// Step numbers for the x axis: round steps (1, 2 or 5 × 10ⁿ apart) at the cell columns where they were
/// logged, as many as fit without crowding.
///
/// Ticks are placed by the steps each column really holds, not by history index: a run logged every 10
/// steps, or by SB3's 2048 timesteps, gets ticks at its own step numbers. The spacing is chosen from the
/// steps a column holds on average, so it stays put while a run grows (it changes when the x scale
/// doubles), and the axis row is not rewritten on every step.
struct XTicks: Equatable {
    struct Tick: Equatable {
        /// The cell column (from the plot's left edge) holding the tick's step.
        var column: Int
        var step: Int64
        var label: String
    }

    var interval: Int64
    var ticks: [Tick]

    /// Columns kept free between one label's end and the next tick, and the least distance between two
    /// ticks: enough axis between labels that the eye can tell which tick a number belongs to.
    static let gap = 2
    static let minimumSpacing = 10

    /// Ticks for cell columns that hold the steps `columns[i]` (first and last logged step of the column;
    /// nil for a column with no step). Columns are expected in logging order; a column whose steps go
    /// backwards (a restarted run) gets no tick.
    static func place(columns: [(first: Int64, last: Int64)?]) -> XTicks {
        let filled = columns.enumerated().compactMap { entry in entry.element.map { (entry.offset, $0) } }
        guard let firstColumn = filled.first, let lastColumn = filled.last else {
            return XTicks(interval: 1, ticks: [])
        }
        let low = firstColumn.1.first
        let high = max(low, lastColumn.1.last)
        let span = Double(high) - Double(low)
        let usedColumns = max(1, lastColumn.0 - firstColumn.0 + 1)
        let stepsPerColumn = max(1, span / Double(usedColumns))
        // The widest label decides how far apart ticks must be: the tick glyph, the label, the gap.
        var interval = niceInterval(atLeast: stepsPerColumn * Double(minimumSpacing))
        for _ in 0..<4 {
            let widest = max(label(low, interval: interval).count, label(high, interval: interval).count)
            let needed = niceInterval(atLeast: stepsPerColumn * Double(max(minimumSpacing, 1 + widest + gap)))
            if needed <= interval { break }
            interval = needed
        }
        var ticks: [Tick] = []
        var previousLast: Int64?
        var nextFreeColumn = 0
        for (column, steps) in filled {
            defer { previousLast = max(previousLast ?? steps.last, steps.last) }
            // The ticks this column is first to reach: multiples of the interval after the previous
            // column's last step, up to its own last step.
            let from = previousLast.map { $0.addingReportingOverflow(1).partialValue } ?? steps.first
            guard steps.last >= from, let step = firstMultiple(of: interval, atLeast: from),
                step <= steps.last, column >= nextFreeColumn
            else { continue }
            let text = label(step, interval: interval)
            ticks.append(Tick(column: column, step: step, label: text))
            nextFreeColumn = column + max(Self.minimumSpacing, 1 + text.count + Self.gap)
        }
        return XTicks(interval: interval, ticks: ticks)
    }

    /// The smallest of 1, 2, 5 × 10ⁿ steps (a whole number) at least `raw`.
    static func niceInterval(atLeast raw: Double) -> Int64 {
        guard raw > 1, raw.isFinite else { return 1 }
        var magnitude: Int64 = 1
        while Double(magnitude) * 10 <= raw, magnitude < Int64.max / 100 { magnitude *= 10 }
        for factor: Int64 in [1, 2, 5, 10] where Double(factor * magnitude) >= raw {
            return factor * magnitude
        }
        return magnitude * 10
    }

    /// The first multiple of `interval` at or after `step`, if it is representable.
    static func firstMultiple(of interval: Int64, atLeast step: Int64) -> Int64? {
        let quotient = step / interval
        let candidate = quotient.multipliedReportingOverflow(by: interval)
        guard !candidate.overflow else { return nil }
        if candidate.partialValue >= step { return candidate.partialValue }
        let next = candidate.partialValue.addingReportingOverflow(interval)
        return next.overflow ? nil : next.partialValue
    }

    /// `1500` as is; from 10,000 on in thousands (`10k`, `12.5k`), millions (`2M`) and billions (`1.5G`), with
    /// as many decimals as the interval needs, so that neighbouring labels never read the same.
    static func label(_ step: Int64, interval: Int64) -> String {
        let magnitude = step.magnitude
        guard magnitude >= 10_000 else { return String(step) }
        let (divisor, suffix): (Int64, String) =
            magnitude >= 1_000_000_000
            ? (1_000_000_000, "G") : magnitude >= 1_000_000 ? (1_000_000, "M") : (1000, "k")
        var decimals = 0
        var resolution = divisor
        while interval % resolution != 0 && resolution > 1 && decimals < 3 {
            resolution /= 10
            decimals += 1
        }
        let whole = step / divisor
        let remainder = (step % divisor).magnitude
        guard decimals > 0 else { return "\(whole)\(suffix)" }
        var fraction = String(remainder / UInt64(resolution))
        fraction = String(repeating: "0", count: max(0, decimals - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)\(suffix)" : "\(whole).\(fraction)\(suffix)"
    }
}
