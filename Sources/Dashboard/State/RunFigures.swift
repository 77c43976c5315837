import KLDetector

/// The numbers a run's header shows, as of the last refresh.
///
/// Copied from the live state on ticks at most every ``ViewOptions/figureInterval`` seconds (and at once
/// after a key changes something), so that a log arriving at 1000 steps a second rewrites the header a few
/// times a second, not a thousand.
public struct RunFigures: Equatable, Sendable {
    /// Samples shown.
    public var sampleCount = 0
    /// The detector's verdict on the last shown sample (nil before the first, or with the detector off).
    public var verdict: StepVerdict?
    /// The last shown sample's step and value, also when the detector gave no verdict.
    public var step: Int64?
    public var value: Double?
    public var stepsPerSecond: Double?
    public var badLines = 0
    /// Bytes of a last record the log ended inside (``RunLogs/ReadStatistics/heldAtEnd``): not bad, but
    /// not read either.
    public var heldAtEnd = 0
    public var frozenBaseline: FrozenBaseline?

    public init() {}

    /// Whether two refreshes put the same numbers on screen. Not `==`: a NaN KL, or the NaN mean of a
    /// warming-up detector, is never `==` itself, and every tick would seem to change the screen.
    func showsTheSame(as other: RunFigures) -> Bool {
        func same(_ a: Double?, _ b: Double?) -> Bool { a?.bitPattern == b?.bitPattern }
        func same(_ a: StepVerdict?, _ b: StepVerdict?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return a.step == b.step && same(a.value, b.value) && a.status == b.status && same(a.mean, b.mean)
                && same(a.variance, b.variance) && a.usesFrozenBaseline == b.usesFrozenBaseline
        }
        func same(_ a: FrozenBaseline?, _ b: FrozenBaseline?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return same(a.mean, b.mean) && same(a.variance, b.variance) && a.lockedAtStep == b.lockedAtStep
        }
        return sampleCount == other.sampleCount && same(verdict, other.verdict) && step == other.step
            && same(value, other.value) && same(stepsPerSecond, other.stepsPerSecond)
            && badLines == other.badLines && heldAtEnd == other.heldAtEnd
            && same(frozenBaseline, other.frozenBaseline)
    }
}

/// Samples per second, measured over windows of at least a second of tick time.
struct RateMeter: Equatable, Sendable {
    private var windowStart: Double?
    private var windowCount = 0
    private(set) var rate: Double?

    mutating func observe(time: Double, count: Int) {
        guard let start = windowStart else {
            windowStart = time
            windowCount = count
            return
        }
        let elapsed = time - start
        if elapsed >= 1 {
            rate = Double(count - windowCount) / elapsed
            windowStart = time
            windowCount = count
        } else if elapsed < 0 {
            windowStart = time  // a clock that went back: start over
            windowCount = count
        }
    }
}
