#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// TensorBoard's scalar smoothing: an exponential moving average debiased for its start.
///
/// As in TensorBoard's `resmoothDataset`: non-finite points pass through unsmoothed and do not advance
/// the average; a constant series is left as is; each smoothed value is divided by `1 - weight^n`, so the
/// first points are not dragged towards zero. Applied to the displayed series only (one value per plot
/// column), never to what the detector sees.
enum Smoothing {
    static func exponentialMovingAverage(_ values: [Double], weight: Double) -> [Double] {
        guard weight > 0, let first = values.first else { return values }
        if values.allSatisfy({ $0 == first }) { return values }
        var last = 0.0
        var accumulated = 0.0
        var result: [Double] = []
        result.reserveCapacity(values.count)
        for value in values {
            guard value.isFinite else {
                result.append(value)
                continue
            }
            last = last * weight + (1 - weight) * value
            accumulated += 1
            let debias = weight == 1 ? 1 : 1 - pow(weight, accumulated)
            result.append(last / debias)
        }
        return result
    }
}
