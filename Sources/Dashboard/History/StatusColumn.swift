import KLDetector

/// The detector's status at each step of a chunk, packed 2 bits to a step (32 to a word).
struct StatusColumn: Sendable {
    private var words: [UInt64]

    init(capacity: Int) {
        words = Array(repeating: 0, count: (capacity + 31) / 32)
    }

    subscript(index: Int) -> StepStatus {
        get {
            let bits = (words[index >> 5] >> UInt64((index & 31) << 1)) & 3
            return StepStatus(rawValue: UInt8(truncatingIfNeeded: bits)) ?? .warmingUp
        }
        set {
            let shift = UInt64((index & 31) << 1)
            let word = index >> 5
            words[word] = (words[word] & ~(3 << shift)) | (UInt64(newValue.rawValue & 3) << shift)
        }
    }

    var bytesAllocated: Int { words.capacity * MemoryLayout<UInt64>.stride + MemoryLayout<Self>.stride }
}
