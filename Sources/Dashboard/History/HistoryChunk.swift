import KLDetector

/// Up to ``HistoryChunk/capacity`` consecutive steps of a run, column by column.
///
/// Per step: the step (4 bytes, ``StepColumn``), the value as logged (8 bytes: the detector is re-run on it
/// and must see rlwatch's doubles), the band's mean and standard deviation as they were at that step (4 + 4
/// bytes, `Float`: only drawn), and the status (2 bits). 20.25 bytes. Fixed-size chunks allocated whole
/// keep the slack of a growing array (up to 2× with doubling) out of the per-step cost, and make an append
/// O(1) without amortisation.
struct HistoryChunk: Sendable {
    static let shift = 12
    static let capacity = 1 << shift
    static let mask = capacity - 1

    var steps = StepColumn(capacity: capacity)
    var values: [Double] = []
    var means: [Float] = []
    var stds: [Float] = []
    var statuses = StatusColumn(capacity: capacity)

    init() {
        values.reserveCapacity(Self.capacity)
        means.reserveCapacity(Self.capacity)
        stds.reserveCapacity(Self.capacity)
    }

    var count: Int { values.count }

    mutating func append(step: Int64, value: Double, mean: Float, std: Float, status: StepStatus) {
        let index = values.count
        steps.append(step)
        values.append(value)
        means.append(mean)
        stds.append(std)
        statuses[index] = status
    }

    var bytesAllocated: Int {
        steps.bytesAllocated + values.capacity * 8 + means.capacity * 4 + stds.capacity * 4
            + statuses.bytesAllocated
    }
}
