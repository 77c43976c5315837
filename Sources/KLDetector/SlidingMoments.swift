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

    mutating func add(_ x: Double) {
        let deviation = x - shift
        let square = deviation * deviation
        sum += deviation
        sumOfSquares += square
        sumError += 2 * Self.u * (abs(sum) + abs(deviation))
        sumOfSquaresError += 2 * Self.u * (sumOfSquares + 3 * square)
    }

    mutating func remove(_ x: Double) {
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

    /// Mean and population variance of `count` values, each with a bound on its absolute error.
    func estimate(count: Int) -> Estimate {
        let n = Double(count)
        let u = Self.u
        let m1 = sum / n
        let m1Error = sumError / n + u * abs(m1)
        let mean = shift + m1
        let meanError = m1Error + u * abs(mean)
        let m2 = sumOfSquares / n
        let m2Error = sumOfSquaresError / n + u * abs(m2)
        let variance = m2 - m1 * m1
        let varianceError = m2Error + 2 * abs(m1) * m1Error + m1Error * m1Error + 3 * u * (abs(m2) + m1 * m1)
        let std = max(variance, 0).squareRoot()
        let stdError = (variance + varianceError).squareRoot() - max(variance - varianceError, 0).squareRoot()
        // Only the error accumulated by sliding counts towards a rebuild: the rounding of a single division is
        // as large in numpy's own figures and no rebuild removes it.
        let slidMeanError = sumError / n
        let slidVarianceError = sumOfSquaresError / n + 2 * abs(m1) * slidMeanError
        let isLoose =
            slidMeanError > 1e-10 * max(std, 1e-8) || slidVarianceError > 1e-10 * max(variance, 1e-16)
        return Estimate(mean: mean, meanError: meanError, std: std, stdError: stdError, isLoose: isLoose)
    }

    struct Estimate {
        var mean: Double
        var meanError: Double
        var std: Double
        var stdError: Double
        /// True when sliding has accumulated enough error that a rebuild pays for itself.
        var isLoose: Bool
    }
}
