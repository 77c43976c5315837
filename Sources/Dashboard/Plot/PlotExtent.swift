#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a plot's vertical range must hold, column by column, and the range that holds it: everything, or
/// the bulk with the outliers left out, as TensorBoard's "ignore outliers in chart scaling" does.
///
/// One logged value of 40 among values near 0.02 (a logging glitch, one exploded step that recovers)
/// would set the axis to 0–40 and squash the rest of the run onto a row. Left out, it is drawn as a mark
/// at the plot's edge with its value (``Renderer``), and the banners and headers still say what it was.
///
/// The rule, in plotted units (log10 on a log scale): of the columns' highest values, at most
/// ``outlierShare`` of the columns (at least one) may be outliers, and only when they lie more than the
/// bulk's own height above the bulk; the same below. So a trend that rises to the end of a run, or an
/// explosion that lasts, stays on the scale: only what is both rare and far out is left out. The band
/// (mean ± k·σ) is held as far as one bulk height beyond the values: after a spike the rolling σ is
/// inflated for a window of steps, and that band must not flatten the run either (it runs off the edge).
struct PlotExtent {
    let isLog: Bool
    private var highs: [Double] = []
    private var lows: [Double] = []
    private var bandHighest = -Double.infinity
    private var bandLowest = Double.infinity
    private var markers: [Double] = []

    /// At most this share of the columns can be outliers on either side.
    static let outlierShare = 0.02

    init(isLog: Bool) { self.isLog = isLog }

    /// A column's lowest and highest finite values.
    mutating func includeColumn(minimum: Double, maximum: Double) {
        if let high = plotted(maximum) { highs.append(high) }
        if let low = plotted(minimum) { lows.append(low) }
    }

    /// A column's band edges.
    mutating func includeBand(lower: Double, upper: Double) {
        if let high = plotted(upper) { bandHighest = max(bandHighest, high) }
        if let low = plotted(lower) { bandLowest = min(bandLowest, low) }
    }

    /// A level that should be in view (the frozen baseline's mean) when it is near the values.
    mutating func includeMarker(_ value: Double) {
        if let value = plotted(value) { markers.append(value) }
    }

    /// The bounds to fit the scale to, in value units (±infinity when there is nothing to hold).
    func bounds(ignoringOutliers: Bool) -> (low: Double, high: Double) {
        var low = lows.min() ?? .infinity
        var high = highs.max() ?? -.infinity
        var bandLow = bandLowest
        var bandHigh = bandHighest
        var markerLow = markers.min() ?? .infinity
        var markerHigh = markers.max() ?? -.infinity
        if ignoringOutliers && low <= high {
            let bulkHigh = Self.bulkEdge(highs, descending: true)
            let bulkLow = Self.bulkEdge(lows, descending: false)
            let height = Self.floored(bulkHigh - bulkLow, near: max(abs(bulkHigh), abs(bulkLow)))
            high = highs.filter { $0 <= bulkHigh + height }.max() ?? bulkHigh
            low = lows.filter { $0 >= bulkLow - height }.min() ?? bulkLow
            let reach = Self.floored(high - low, near: max(abs(high), abs(low)))
            bandHigh = min(bandHigh, high + reach)
            bandLow = max(bandLow, low - reach)
            let inReach = markers.filter { $0 >= low - reach && $0 <= high + reach }
            markerLow = inReach.min() ?? .infinity
            markerHigh = inReach.max() ?? -.infinity
        }
        let lowest = min(low, bandLow, markerLow)
        let highest = max(high, bandHigh, markerHigh)
        return (value(lowest), value(highest))
    }

    /// The edge of the bulk: the highest (or lowest) value once the most extreme columns that may be
    /// outliers are set aside. Too few columns to tell: the extreme itself.
    static func bulkEdge(_ values: [Double], descending: Bool) -> Double {
        let sorted = descending ? values.sorted(by: >) : values.sorted()
        guard sorted.count >= 3 else { return sorted.first ?? 0 }
        let setAside = min(max(1, Int(Double(sorted.count) * outlierShare)), (sorted.count - 1) / 2)
        return sorted[setAside]
    }

    /// A height never so small that noise in a flat series counts as outlying.
    private static func floored(_ height: Double, near magnitude: Double) -> Double {
        max(height, magnitude * 0.05, 1e-12)
    }

    private func plotted(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if isLog { return value > 0 ? log10(value) : nil }
        return value
    }

    private func value(_ plotted: Double) -> Double {
        guard plotted.isFinite else { return plotted }
        return isLog ? pow(10, plotted) : plotted
    }
}
