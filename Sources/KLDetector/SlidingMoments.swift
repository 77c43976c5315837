/// Running mean and variance of a sliding window in O(1) per step, with a rigorous bound on their rounding
/// error.
///
/// The detector uses these as a fast estimate and only recomputes numpy's exact figures when the estimate,
/// widened by its error bound, could land on the other side of a threshold. Sums are kept of `x - shift`
/// (the shift is a recent mean) so that a KL series far from zero does not cancel catastrophically, and
/// every add or remove grows the error bound by what that operation can round away.
struct SlidingMoments {
    /// Unit roundoff of Double.
    static let u = Double.ulpOfOne / 2

    private(set) var shift = 0.0
    private var sum = 0.0
    private var sumOfSquares = 0.0
    private var sumError = 0.0
    private var sumOfSquaresError = 0.0

    @inline(__always) mutating func add(_ x: Double) {
        let deviation = x - shift
        let square = deviation * deviation
        sum += deviation
        sumOfSquares += square
        sumError += 2 * Self.u * (abs(sum) + abs(deviation))
        sumOfSquaresError += 2 * Self.u * (sumOfSquares + 3 * square)
    }

    @inline(__always) mutating func remove(_ x: Double) {
        let deviation = x - shift
        let square = deviation * deviation
        sum -= deviation
        sumOfSquares -= square
        sumError += 2 * Self.u * (abs(sum) + abs(deviation))
        sumOfSquaresError += 2 * Self.u * (abs(sumOfSquares) + 3 * square)
    }

    /// Starts over from the given values (chronological, contiguous), centred on their mean.
    mutating func rebuild(_ values: UnsafeBufferPointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        let n = values.count
        guard n > 0 else {
            self = SlidingMoments()
            return
        }
        shift = NumpyStatistics.mean(values)
        var absoluteSum = 0.0
        for index in 0..<n {
            let deviation = values[index] - shift
            scratch[index] = deviation
            absoluteSum += abs(deviation)
        }
        sum = NumpyStatistics.pairwiseSum(scratch, n)
        for index in 0..<n { scratch[index] = scratch[index] * scratch[index] }
        sumOfSquares = NumpyStatistics.pairwiseSum(scratch, n)
        // Pairwise summation errs by at most about (log2(n) + 8) roundings of the absolute sum; the deviations
        // themselves are each off by one rounding, their squares by three.
        let levels = Double(Int.bitWidth - n.leadingZeroBitCount) + 10
        sumError = levels * Self.u * absoluteSum
        sumOfSquaresError = (levels + 4) * Self.u * sumOfSquares
    }

    /// Mean and population variance of the values. `reciprocal` is `1 / count` (a cached reciprocal keeps
    /// divisions off the hot path).
    ///
    /// The estimate is only used while it is tight: `isLoose` is set when the error accumulated by sliding
    /// exceeds 1e-12 of the standard deviation (or of the variance), or when the values have drifted more
    /// than 100 standard deviations from the shift, where rounding of the sums would start to matter.
    /// Otherwise the estimate is within about 2e-11 relative of the exact figures, and the detector's
    /// allowance of 1e-9 covers it with room to spare.
    @inline(__always)
    func estimate(reciprocal: Double) -> Estimate {
        let m1 = sum * reciprocal
        let variance = sumOfSquares * reciprocal - m1 * m1
        let floorVariance = max(variance, 1e-16)
        let meanError = sumError * reciprocal
        let isLoose =
            meanError * meanError > 1e-24 * floorVariance
            || sumOfSquaresError * reciprocal > 1e-12 * floorVariance
            || m1 * m1 > 1e4 * floorVariance
        return Estimate(mean: shift + m1, variance: variance, isLoose: isLoose)
    }

    struct Estimate {
        var mean: Double
        var variance: Double
        /// True when the estimate is not tight enough to decide with: rebuild, then estimate again.
        var isLoose: Bool
    }
}
