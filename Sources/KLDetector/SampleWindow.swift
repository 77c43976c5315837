/// The last `capacity` samples in a ring, with counts of the values the running sums cannot hold.
///
/// Storage is a raw buffer behind a class, copied on write by hand (``makeUnique()``, once per step), so
/// that the per-step reads and writes carry no bounds or uniqueness checks.
struct SampleWindow: Sendable {
    let capacity: Int
    private var storage: Storage
    /// Index of the oldest sample.
    private var head = 0
    private(set) var count = 0
    private var nanCount = 0
    private var positiveInfinityCount = 0
    private var negativeInfinityCount = 0
    /// Finite values so large that their squares would overflow the running sums.
    private(set) var hugeCount = 0
    /// Values that are not ordinary (``isOrdinary(_:)``): non-finite or huge. Zero on almost every step.
    private(set) var unusualCount = 0

    init(capacity: Int) {
        precondition(capacity >= 1, "a window holds at least one sample")
        self.capacity = capacity
        storage = Storage(capacity: capacity)
    }

    var isFull: Bool { count == capacity }
    var nonFiniteCount: Int { nanCount &+ positiveInfinityCount &+ negativeInfinityCount }

    /// What numpy's mean is when the window holds a non-finite value: NaN if it holds NaN or both infinities.
    var nonFiniteMean: Double {
        if nanCount > 0 || (positiveInfinityCount > 0 && negativeInfinityCount > 0) { return .nan }
        return positiveInfinityCount > 0 ? .infinity : -.infinity
    }

    /// Values the running sums can hold without overflow: finite and well inside the square root of max.
    @inline(__always) static func isOrdinary(_ x: Double) -> Bool { abs(x) <= 1e150 }

    /// Copies the storage if another copy of this window shares it. Call before mutating.
    @inline(__always) mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Appends a sample; the window must not be full, and must be unique (``makeUnique()``).
    @inline(__always) mutating func append(_ x: Double) {
        var tail = head &+ count
        if tail >= capacity { tail &-= capacity }
        storage.values[tail] = x
        count &+= 1
        tally(x, by: 1)
    }

    /// Removes and returns the oldest sample; the window must not be empty.
    @inline(__always) mutating func removeOldest() -> Double {
        let x = storage.values[head]
        head &+= 1
        if head == capacity { head = 0 }
        count &-= 1
        tally(x, by: -1)
        return x
    }

    func copyChronologically(into destination: UnsafeMutablePointer<Double>) {
        let firstRun = min(count, capacity - head)
        destination.update(from: storage.values + head, count: firstRun)
        (destination + firstRun).update(from: storage.values, count: count - firstRun)
    }

    @inline(__always) private mutating func tally(_ x: Double, by delta: Int) {
        if Self.isOrdinary(x) { return }
        unusualCount &+= delta
        if x.isNaN {
            nanCount &+= delta
        } else if x == .infinity {
            positiveInfinityCount &+= delta
        } else if x == -.infinity {
            negativeInfinityCount &+= delta
        } else {
            hugeCount &+= delta
        }
    }

    private final class Storage: @unchecked Sendable {
        let values: UnsafeMutablePointer<Double>
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            values = .allocate(capacity: capacity)
            values.initialize(repeating: 0, count: capacity)
        }

        func copy() -> Storage {
            let copy = Storage(capacity: capacity)
            copy.values.update(from: values, count: capacity)
            return copy
        }

        deinit { values.deallocate() }
    }
}
