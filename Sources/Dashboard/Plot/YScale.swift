import KltopKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The vertical scale: a "nice" range that holds the data and the band, linear or log10.
///
/// The range is widened outward to multiples of a 1-2-2.5-5 tick, so a new value inside it, or a little
/// outside, usually changes nothing: the plot is not redrawn for every wiggle of the data.
struct YScale: Equatable {
    /// Bounds in plotted units (log10 of the value on a log scale).
    let lower: Double
    let upper: Double
    let isLog: Bool
    /// The step of the 1-2-2.5-5 ladder the bounds are multiples of (in plotted units); 0 when none.
    var tick = 0.0

    /// The scale for values between `minimum` and `maximum` (either may be infinite when there is no data).
    static func fit(minimum: Double, maximum: Double, isLog: Bool) -> YScale {
        var low = isLog ? log10(minimum) : minimum
        var high = isLog ? log10(maximum) : maximum
        guard low.isFinite && high.isFinite && low <= high else {
            return isLog ? YScale(lower: -3, upper: 0, isLog: true) : YScale(lower: 0, upper: 1, isLog: false)
        }
        if high - low < max(abs(high), abs(low)) * 1e-9 || high - low < 1e-300 {
            let pad = max(abs(high) * 0.05, isLog ? 0.5 : 1e-12)
            low -= pad
            high += pad
        }
        let tick = niceTick((high - low) / 4)
        var niceLow = (low / tick).rounded(.down) * tick
        var niceHigh = (high / tick).rounded(.up) * tick
        if !(niceLow < niceHigh) || !niceLow.isFinite || !niceHigh.isFinite {
            niceLow = low
            niceHigh = high > low ? high : low + 1
        }
        return YScale(lower: niceLow, upper: niceHigh, isLog: isLog, tick: tick)
    }

    /// The smallest of 1, 2, 2.5, 5 × 10ⁿ at least `raw`.
    static func niceTick(_ raw: Double) -> Double {
        guard raw > 0 && raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for factor in [1.0, 2, 2.5, 5, 10] where factor * magnitude >= raw * (1 - 1e-12) {
            return factor * magnitude
        }
        return 10 * magnitude
    }

    /// Where `value` sits, as a fraction from the bottom (0) to the top (1), clamped; nil for NaN, and for
    /// values a log scale cannot show (≤ 0 go to the bottom instead, so a zero KL is still visible).
    func fraction(_ value: Double) -> Double? {
        if value.isNaN { return nil }
        if value == .infinity { return 1 }
        if value == -.infinity { return 0 }
        var plotted = value
        if isLog { plotted = value > 0 ? log10(value) : -.infinity }
        if plotted == -.infinity { return 0 }
        let fraction = (plotted - lower) / (upper - lower)
        return fraction.isNaN ? nil : min(1, max(0, fraction))
    }

    /// Whether a finite value lies within the range (not clamped to an edge).
    func contains(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        if isLog && value <= 0 { return false }
        let plotted = isLog ? log10(value) : value
        return plotted >= lower && plotted <= upper
    }

    /// Whether a value lies above the range (+infinity does; NaN does not).
    func isAbove(_ value: Double) -> Bool {
        guard !value.isNaN else { return false }
        if value == .infinity { return true }
        if isLog && value <= 0 { return false }
        return (isLog ? log10(value) : value) > upper
    }

    /// Whether a value lies below the range (-infinity does; on a log scale, values ≤ 0 are drawn at the
    /// bottom and are not marked).
    func isBelow(_ value: Double) -> Bool {
        guard !value.isNaN else { return false }
        if value == -.infinity { return true }
        if isLog && value <= 0 { return false }
        return (isLog ? log10(value) : value) < lower
    }

    /// The round value closest to the one at `fraction` of the height, strictly inside the range: a multiple
    /// of the tick, and on a log scale a power of ten. Nil when there is none.
    func roundValue(near fraction: Double) -> Double? {
        let step = isLog ? max(1, tick.rounded(.up)) : tick
        guard step > 0, step.isFinite else { return nil }
        let target = lower + (upper - lower) * fraction
        var candidate = (target / step).rounded() * step
        if candidate <= lower { candidate += step }
        if candidate >= upper { candidate -= step }
        guard candidate > lower, candidate < upper else { return nil }
        // Multiples of a decimal tick are not exact in binary: 3 × 0.025 is 0.07500000000000001.
        let rounded = Double(cFormat(candidate, "%.12g")) ?? candidate
        return isLog ? pow(10, rounded) : rounded
    }

    /// The value at a fraction of the height, for labels.
    func value(atFraction fraction: Double) -> Double {
        let plotted = lower + (upper - lower) * fraction
        return isLog ? pow(10, plotted) : plotted
    }

    /// The dot row (from the bottom, 0 to `dotRows - 1`) of a value.
    func dotRow(_ value: Double, dotRows: Int) -> Int? {
        guard dotRows > 0, let fraction = fraction(value) else { return nil }
        return min(dotRows - 1, Int((fraction * Double(dotRows)).rounded(.down)))
    }

    /// The cell row (from the top, 0 to `rows - 1`) of a value.
    func cellRow(_ value: Double, rows: Int) -> Int? {
        guard rows > 0, let fraction = fraction(value) else { return nil }
        return rows - 1 - min(rows - 1, Int((fraction * Double(rows)).rounded(.down)))
    }
}
