/// The last `capacity` samples in a ring, with counts of the values the running sums cannot hold.
struct SampleWindow: Sendable {
    let capacity: Int
    private var storage: ContiguousArray<Double>
    /// Index of the oldest sample.
    private var head = 0
    private(set) var count = 0
    private var nanCount = 0
    private var positiveInfinityCount = 0
    private var negativeInfinityCount = 0
    /// Finite values so large that their squares would overflow the running sums.
    private(set) var hugeCount = 0

    init(capacity: Int) {
        self.capacity = capacity
        storage = ContiguousArray(repeating: 0, count: capacity)
    }

    var isFull: Bool { count == capacity }
    var nonFiniteCount: Int { nanCount + positiveInfinityCount + negativeInfinityCount }

    /// What numpy's mean is when the window holds a non-finite value: NaN if it holds NaN or both infinities.
    var nonFiniteMean: Double {
        if nanCount > 0 || (positiveInfinityCount > 0 && negativeInfinityCount > 0) { return .nan }
        return positiveInfinityCount > 0 ? .infinity : -.infinity
    }

    /// Values the running sums can hold without overflow: finite and well inside the square-root of max.
    static func isOrdinary(_ x: Double) -> Bool { abs(x) <= 1e150 }

    mutating func append(_ x: Double) {
        precondition(count < capacity, "SampleWindow is full")
        var tail = head + count
        if tail >= capacity { tail -= capacity }
        storage[tail] = x
        count += 1
        tally(x, by: 1)
    }

    mutating func removeOldest() -> Double {
        precondition(count > 0, "SampleWindow is empty")
        let x = storage[head]
        head += 1
        if head == capacity { head = 0 }
        count -= 1
        tally(x, by: -1)
        return x
    }

    func copyChronologically(into destination: UnsafeMutablePointer<Double>) {
        storage.withUnsafeBufferPointer { source in
            let firstRun = min(count, capacity - head)
            (destination).update(from: source.baseAddress! + head, count: firstRun)
            (destination + firstRun).update(from: source.baseAddress!, count: count - firstRun)
        }
    }

    private mutating func tally(_ x: Double, by delta: Int) {
        if Self.isOrdinary(x) { return }
        if x.isNaN {
            nanCount += delta
        } else if x == .infinity {
            positiveInfinityCount += delta
        } else if x == -.infinity {
            negativeInfinityCount += delta
        } else {
            hugeCount += delta
        }
    }
}
