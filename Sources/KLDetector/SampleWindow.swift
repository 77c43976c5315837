/// The last `capacity` samples in a ring, with counts of the values the running sums cannot hold.
///
/// The detector keeps here exactly the rolling baseline of the next step: the last `rollingWindow - 1`
/// samples. Storage is tail-allocated behind a class (``Storage``), grown while the window fills, copied on write by hand
/// (``makeUnique()``) so that the per-step reads and writes carry no bounds checks and the element address
/// is a constant offset from the class reference, with no pointer to load. Doubles need no deinitialization.
///
/// Members the detector's inlinable fast lane touches are `@usableFromInline`; that lane only ever calls
/// ``replaceOldestDeferred(with:)`` on a full window holding ordinary values, with an ordinary value.
///
/// ## Deferred writes
///
/// Writing to storage that a copy of the detector may share needs a uniqueness check: a call into the
/// runtime, around which every live floating-point register is spilled, some 20 of the 115 instructions of
/// a fast step. So the fast lane writes nowhere shared: it reads the oldest sample from storage (reading
/// shared storage is always safe, as nobody writes it while it is shared) and parks the new one in
/// ``pending``, inline in the struct and so copied with it. Every ``pendingLimit`` steps ``settle()``
/// checks uniqueness once and writes the parked samples to their slots, the ones just behind `head` that
/// their oldest samples left. Those slots are stale meanwhile but never read: the fast lane reads only
/// `head`, which is not among them while fewer than `capacity` samples are parked (``pendingLimit`` <
/// capacity, the fast lane's capacity being at least 9), and every other member settles first or requires a
/// settled window. Parking costs about 13 instructions a step and settling 16 samples about 7 a step: a
/// window-100 step went from 115 to 108 instructions (callgrind), about 6% faster; with 8 samples parked
/// it gained nothing, and with the parked samples read through `InlineArray`'s subscript (which copied the
/// whole array per read) it lost.
///
/// `@unchecked Sendable` because ``Storage`` is a `ManagedBuffer`, which is never `Sendable`: the elements are
/// only written through a uniquely referenced storage (``makeUnique()``), so a copy sent to another thread
/// never shares storage that either side writes.
@usableFromInline
struct SampleWindow: @unchecked Sendable {
    @usableFromInline let capacity: Int
    @usableFromInline var storage: Storage
    /// Index of the oldest sample.
    @usableFromInline var head = 0
    @usableFromInline private(set) var count = 0
    /// Samples that belong in the `pendingCount` slots just behind `head`, oldest first (see above).
    @usableFromInline var pending = InlineArray<16, Double>(repeating: 0)
    @usableFromInline var pendingCount = 0
    /// How many samples are parked before they are settled: at most 16, and fewer than `capacity` when it is
    /// at least 2.
    @usableFromInline let pendingLimit: Int
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
        pendingLimit = max(min(16, capacity - 1), 1)
        storage = Storage.make(capacity: min(capacity, Self.initialAllocation))
    }

    /// Storage is allocated as the window fills, doubling, so that a large window on a short log costs what
    /// the log holds, not what the window could.
    static let initialAllocation = 1024

    var isFull: Bool { count == capacity }
    var nonFiniteCount: Int { nanCount &+ positiveInfinityCount &+ negativeInfinityCount }

    /// What numpy's mean is when the window holds a non-finite value: NaN if it holds NaN or both infinities.
    var nonFiniteMean: Double {
        if nanCount > 0 || (positiveInfinityCount > 0 && negativeInfinityCount > 0) { return .nan }
        return positiveInfinityCount > 0 ? .infinity : -.infinity
    }

    /// Values the running sums can hold without overflow: finite and well inside the square root of max.
    @inlinable @inline(__always)
    static func isOrdinary(_ x: Double) -> Bool { abs(x) <= 1e150 }

    /// Copies the storage if another copy of this window shares it. Call before writing to it.
    @inline(__always)
    mutating func makeUnique() {
        if _slowPath(!isKnownUniquelyReferenced(&storage)) { storage = storage.copy() }
    }

    /// Replaces the oldest sample with `x` and returns it, deferring the write (see Deferred writes): the
    /// remove-oldest and append of a full window fused into one slot. The window must be full, and `x` and
    /// every sample in it must be ordinary (the unusual-value counts are not touched).
    @inlinable @inline(__always)
    mutating func replaceOldestDeferred(with x: Double) -> Double {
        let oldest = storage.withUnsafeMutablePointerToElements { [head] elements in elements[head] }
        pending[unchecked: pendingCount] = x
        pendingCount &+= 1
        let next = head &+ 1
        head = next == capacity ? 0 : next
        if _slowPath(pendingCount == pendingLimit) { settle() }
        return oldest
    }

    /// Writes the parked samples to their slots, after one uniqueness check.
    @usableFromInline @inline(never)
    mutating func settle() {
        guard pendingCount > 0 else { return }
        makeUnique()
        // The parked slots are [head - parked, head) around the ring: one run, or two split at the end.
        let parked = pendingCount
        let wrapped = max(parked &- head, 0)
        let (capacity, head) = (self.capacity, self.head)
        pending.span.withUnsafeBufferPointer { samples in
            storage.withUnsafeMutablePointerToElements { elements in
                let samples = samples.baseAddress!
                if wrapped == 0 && parked == 16 {
                    // The usual case, from the fast lane: one run of 16, copied unrolled.
                    Self.copy(samples, to: elements + (head &- 16), count: 16)
                    return
                }
                Self.copy(samples, to: elements + (capacity &- wrapped), count: wrapped)
                Self.copy(
                    samples + wrapped, to: elements + (head &- parked &+ wrapped), count: parked &- wrapped)
            }
        }
        pendingCount = 0
    }

    /// A short copy, two doubles at a time (a loop of single doubles cost twice as much, a memcpy call more).
    @inline(__always)
    private static func copy(
        _ source: UnsafePointer<Double>, to target: UnsafeMutablePointer<Double>, count: Int
    ) {
        var index = 0
        while index &+ 2 <= count {
            UnsafeMutableRawPointer(target + index).storeBytes(
                of: UnsafeRawPointer(source + index).loadUnaligned(as: SIMD2<Double>.self),
                as: SIMD2<Double>.self)
            index &+= 2
        }
        if index < count { target[index] = source[index] }
    }

    /// Overwrites the oldest sample with `x` and returns the sample it replaced. The window must be full
    /// and settled.
    mutating func replaceOldest(with x: Double) -> Double {
        makeUnique()
        let oldest = storage.withUnsafeMutablePointerToElements { [head] elements in
            let oldest = elements[head]
            elements[head] = x
            return oldest
        }
        let next = head &+ 1
        head = next == capacity ? 0 : next
        return oldest
    }

    /// Appends a sample; the window must not be full, and must be settled.
    mutating func append(_ x: Double) {
        assert(pendingCount == 0)
        makeUnique()
        if count == storage.header { grow() }
        var tail = head &+ count
        if tail >= capacity { tail &-= capacity }
        storage.withUnsafeMutablePointerToElements { $0[tail] = x }
        count &+= 1
        tally(x, by: 1)
    }

    /// Doubles the storage (up to `capacity`) while the window fills. Until it is full nothing has left
    /// it, so its samples lie at the start of the storage in order (`head` is 0).
    private mutating func grow() {
        assert(head == 0 && count < capacity)
        let larger = Storage.make(capacity: min(capacity, 2 * storage.header))
        larger.withUnsafeMutablePointerToElements { target in
            storage.withUnsafeMutablePointerToElements { target.update(from: $0, count: count) }
        }
        storage = larger
    }

    /// ``replaceOldest(with:)`` for any values, keeping the unusual-value counts.
    mutating func replaceOldestCounting(with x: Double) -> Double {
        assert(pendingCount == 0)
        let oldest = replaceOldest(with: x)
        tally(oldest, by: -1)
        tally(x, by: 1)
        return oldest
    }

    /// Runs `body` on the samples as stored: the run from `head` to the end of the ring, then the one from
    /// its start (possibly empty). The window must be settled.
    func withRuns<Result>(
        _ body: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>) -> Result
    ) -> Result {
        assert(pendingCount == 0)
        let firstRun = min(count, capacity - head)
        return storage.withUnsafeMutablePointerToElements { values in
            body(
                UnsafeBufferPointer(start: values + head, count: firstRun),
                UnsafeBufferPointer(start: values, count: count - firstRun))
        }
    }

    /// The window must be settled.
    func copyChronologically(into destination: UnsafeMutablePointer<Double>) {
        assert(pendingCount == 0)
        let firstRun = min(count, capacity - head)
        storage.withUnsafeMutablePointerToElements { values in
            destination.update(from: values + head, count: firstRun)
            (destination + firstRun).update(from: values, count: count - firstRun)
        }
    }

    private mutating func tally(_ x: Double, by delta: Int) {
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

    /// The samples, tail-allocated after a header holding their count.
    @usableFromInline
    final class Storage: ManagedBuffer<Int, Double> {
        static func make(capacity: Int) -> Storage {
            let buffer = Storage.create(minimumCapacity: capacity) { _ in capacity }
            let storage = unsafeDowncast(buffer, to: Storage.self)
            storage.withUnsafeMutablePointerToElements { $0.initialize(repeating: 0, count: capacity) }
            return storage
        }

        @inline(never)
        func copy() -> Storage {
            let copy = Storage.make(capacity: header)
            copy.withUnsafeMutablePointerToElements { target in
                withUnsafeMutablePointerToElements { target.update(from: $0, count: header) }
            }
            return copy
        }
    }
}
