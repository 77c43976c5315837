import KLDetector

/// What a plot column needs to know about a range of steps: the spread of the finite values, their sum
/// (for the smoothed mean), the worst status, which non-finite values occurred, and the band at the last
/// step of the range.
///
/// Summaries merge, so a column of 8192 steps is built from 128 stored summaries of 64 steps each
/// (``RunHistory``) instead of 8192 reads, and a frame costs O(width) whatever the run's length.
public struct ValueSummary: Equatable, Sendable {
    public private(set) var minimum = Double.infinity
    public private(set) var maximum = -Double.infinity
    public private(set) var sum = 0.0
    /// Samples in the range, and how many of them are finite. 32 bits keep the stored summaries small; a
    /// run would need 2³¹ samples (40 GB of history) to wrap them.
    public private(set) var count: Int32 = 0
    public private(set) var finiteCount: Int32 = 0
    /// The band at the last sample: mean and floored std; NaN while warming up.
    public private(set) var lastMean = Float.nan
    public private(set) var lastStd = Float.nan
    public private(set) var worst = StepStatus.warmingUp
    private var flags: UInt8 = 0

    public init() {}

    private static let positiveInfinityFlag: UInt8 = 1
    private static let negativeInfinityFlag: UInt8 = 2
    private static let nanFlag: UInt8 = 4

    public var isEmpty: Bool { count == 0 }
    public var hasPositiveInfinity: Bool { flags & Self.positiveInfinityFlag != 0 }
    public var hasNegativeInfinity: Bool { flags & Self.negativeInfinityFlag != 0 }
    public var hasNaN: Bool { flags & Self.nanFlag != 0 }
    /// Mean of the finite values; NaN when there are none.
    public var mean: Double { finiteCount > 0 ? sum / Double(finiteCount) : .nan }

    mutating func add(value: Double, mean: Float, std: Float, status: StepStatus) {
        count &+= 1
        if value.isFinite {
            finiteCount &+= 1
            sum += value
            if value < minimum { minimum = value }
            if value > maximum { maximum = value }
        } else if value.isNaN {
            flags |= Self.nanFlag
        } else {
            flags |= value > 0 ? Self.positiveInfinityFlag : Self.negativeInfinityFlag
        }
        if status > worst { worst = status }
        lastMean = mean
        lastStd = std
    }

    /// Adds the summary of the steps that follow this one's.
    mutating func merge(_ later: ValueSummary) {
        guard !later.isEmpty else { return }
        count &+= later.count
        finiteCount &+= later.finiteCount
        sum += later.sum
        minimum = min(minimum, later.minimum)
        maximum = max(maximum, later.maximum)
        flags |= later.flags
        if later.worst > worst { worst = later.worst }
        lastMean = later.lastMean
        lastStd = later.lastStd
    }
}
