/// One chunk's logged step numbers: 32-bit offsets from the chunk's first step, or 64-bit steps once an
/// offset does not fit.
///
/// Steps are nearly always close together (0, 1, 2… or multiples of a logging interval), so 4 bytes hold
/// them; a chunk that meets a step more than 2³¹ away from its first one (a restarted counter, a
/// timestamp used as the step) is widened once, which is O(chunk size) and so still O(1) per append.
struct StepColumn: Sendable {
    private var base: Int64 = 0
    private var offsets: [Int32] = []
    private var wide: [Int64] = []
    private(set) var isWide = false

    init(capacity: Int) { offsets.reserveCapacity(capacity) }

    var count: Int { isWide ? wide.count : offsets.count }

    mutating func append(_ step: Int64) {
        if !isWide {
            if offsets.isEmpty { base = step }
            let (difference, overflow) = step.subtractingReportingOverflow(base)
            if !overflow, let offset = Int32(exactly: difference) {
                offsets.append(offset)
                return
            }
            widen()
        }
        wide.append(step)
    }

    subscript(index: Int) -> Int64 {
        isWide ? wide[index] : base &+ Int64(offsets[index])
    }

    private mutating func widen() {
        wide.reserveCapacity(offsets.capacity)
        for offset in offsets { wide.append(base &+ Int64(offset)) }
        offsets = []
        isWide = true
    }

    var bytesAllocated: Int {
        offsets.capacity * MemoryLayout<Int32>.stride + wide.capacity * MemoryLayout<Int64>.stride
            + MemoryLayout<Self>.stride
    }
}
