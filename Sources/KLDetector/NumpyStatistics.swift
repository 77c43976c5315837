/// Mean and standard deviation computed in exactly numpy's order of operations, so the results are the same
/// doubles rlwatch gets from `np.mean` and `np.std`.
///
/// numpy sums float64 arrays with pairwise summation (`pairwise_sum_DOUBLE` in numpy's
/// `loops_utils.h.src`): under 8 values a plain loop, up to 128 eight interleaved partial sums, above that
/// a split at an even multiple of 8. `np.std` is two-pass: the mean, then the pairwise sum of squared
/// deviations divided by n. Matching this bit for bit is what keeps a z-score that lands within rounding of
/// a threshold on the same side as rlwatch's.
public enum NumpyStatistics {
    /// `np.sum` of a contiguous float64 array.
    public static func pairwiseSum(_ values: UnsafeBufferPointer<Double>) -> Double {
        guard let base = values.baseAddress else { return 0 }
        return pairwiseSum(base, values.count)
    }

    /// `np.mean`: the pairwise sum divided by the count.
    public static func mean(_ values: UnsafeBufferPointer<Double>) -> Double {
        pairwiseSum(values) / Double(values.count)
    }

    /// `np.var` (ddof 0) given `np.mean` of the same values; `np.std` is its square root.
    /// `scratch` holds at least `values.count` doubles.
    public static func variance(
        _ values: UnsafeBufferPointer<Double>, mean: Double, scratch: UnsafeMutablePointer<Double>
    ) -> Double {
        for index in 0..<values.count {
            let deviation = values[index] - mean
            scratch[index] = deviation * deviation
        }
        return pairwiseSum(scratch, values.count) / Double(values.count)
    }

    /// `np.mean` and `np.std` of an array (tests, one-off computations); the detector uses the pointer forms.
    public static func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, std: Double) {
        values.withUnsafeBufferPointer { buffer in
            let mean = self.mean(buffer)
            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: max(values.count, 1))
            defer { scratch.deallocate() }
            return (mean, variance(buffer, mean: mean, scratch: scratch).squareRoot())
        }
    }

    static func pairwiseSum(_ a: UnsafePointer<Double>, _ n: Int) -> Double {
        if n < 8 {
            var result = -0.0
            for index in 0..<n { result += a[index] }
            return result
        }
        if n <= 128 {
            var r0 = a[0]
            var r1 = a[1]
            var r2 = a[2]
            var r3 = a[3]
            var r4 = a[4]
            var r5 = a[5]
            var r6 = a[6]
            var r7 = a[7]
            var index = 8
            let unrolledEnd = n - n % 8
            while index < unrolledEnd {
                r0 += a[index]
                r1 += a[index + 1]
                r2 += a[index + 2]
                r3 += a[index + 3]
                r4 += a[index + 4]
                r5 += a[index + 5]
                r6 += a[index + 6]
                r7 += a[index + 7]
                index += 8
            }
            var result = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while index < n {
                result += a[index]
                index += 1
            }
            return result
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(a, half) + pairwiseSum(a + half, n - half)
    }
}
