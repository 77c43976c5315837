import KLDetector

/// Every step of one run as it was logged, with what the detector concluded at each: what the plot draws
/// and what a change of settings re-runs the detector over.
///
/// Stored column-wise in chunks of 4096 steps (``HistoryChunk``), 20.25 bytes a step, plus a
/// ``ValueSummary`` per 64 steps (0.75 bytes a step) so that a frame reads O(width) summaries instead of
/// the whole run. Appending is O(1). ``bytesAllocated`` is what it really holds, capacity included.
public struct RunHistory: Sendable {
    private var chunks: [HistoryChunk] = []
    public private(set) var count = 0
    /// A summary of each 64 consecutive steps; the last one may be partial.
    private var summaries: [ValueSummary] = []

    static let summaryShift = 6
    static let summarySpan = 1 << summaryShift

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Appends a step with the detector's verdict on it (nil: the detector is off).
    public mutating func append(step: Int64, value: Double, verdict: StepVerdict?) {
        let band = Self.band(verdict)
        let status = verdict?.status ?? .warmingUp
        // From the count, not `chunks.last?.isFull`: reading `last` would copy the chunk on every step.
        if count & HistoryChunk.mask == 0 { chunks.append(HistoryChunk()) }
        chunks[chunks.count - 1].append(
            step: step, value: value, mean: band.mean, std: band.std, status: status)
        if count & (Self.summarySpan - 1) == 0 { summaries.append(ValueSummary()) }
        summaries[summaries.count - 1].add(value: value, mean: band.mean, std: band.std, status: status)
        count += 1
    }

    /// The band as stored: the baseline mean and the floored std, as `Float`s (only ever drawn).
    static func band(_ verdict: StepVerdict?) -> (mean: Float, std: Float) {
        guard let verdict, verdict.status != .warmingUp else { return (.nan, .nan) }
        return (Float(verdict.mean), Float(verdict.std))
    }

    public func step(at index: Int) -> Int64 {
        chunks[index >> HistoryChunk.shift].steps[index & HistoryChunk.mask]
    }

    public func value(at index: Int) -> Double {
        chunks[index >> HistoryChunk.shift].values[index & HistoryChunk.mask]
    }

    public func status(at index: Int) -> StepStatus {
        chunks[index >> HistoryChunk.shift].statuses[index & HistoryChunk.mask]
    }

    /// The band's mean and floored std at a step; NaN while the detector was warming up.
    public func band(at index: Int) -> (mean: Float, std: Float) {
        let chunk = chunks[index >> HistoryChunk.shift]
        let offset = index & HistoryChunk.mask
        return (chunk.means[offset], chunk.stds[offset])
    }

    /// The summary of the steps in `range` (clamped to the history).
    public func summary(of range: Range<Int>) -> ValueSummary {
        let lower = max(0, range.lowerBound)
        let upper = min(count, range.upperBound)
        var result = ValueSummary()
        var index = lower
        while index < upper {
            if index & (Self.summarySpan - 1) == 0 && index + Self.summarySpan <= upper {
                result.merge(summaries[index >> Self.summaryShift])
                index += Self.summarySpan
            } else {
                let chunk = chunks[index >> HistoryChunk.shift]
                let offset = index & HistoryChunk.mask
                let end = min(
                    upper, index - offset + HistoryChunk.capacity, (index | (Self.summarySpan - 1)) + 1)
                for position in offset..<(offset + end - index) {
                    result.add(
                        value: chunk.values[position], mean: chunk.means[position], std: chunk.stds[position],
                        status: chunk.statuses[position])
                }
                index = end
            }
        }
        return result
    }

    /// Runs `detector` over every stored step in order and stores its new verdicts: what a change of settings
    /// does. `visit` sees each verdict with its index (for alerts, and the figures of a paused view).
    mutating func replay(
        with detector: inout KLExplosionDetector, visit: (Int, StepVerdict?) -> Void
    ) {
        summaries.removeAll(keepingCapacity: true)
        var index = 0
        for chunkIndex in chunks.indices {
            chunks[chunkIndex].replay(with: &detector) { offset, verdict in
                visit(index + offset, verdict)
            }
            // Rebuild this chunk's summaries from the new columns.
            let chunkCount = chunks[chunkIndex].count
            var start = 0
            while start < chunkCount {
                var summary = ValueSummary()
                let end = min(chunkCount, start + Self.summarySpan)
                chunks[chunkIndex].summarize(start..<end, into: &summary)
                summaries.append(summary)
                start = end
            }
            index += chunkCount
        }
    }

    /// Bytes held, capacity included: the chunks' columns, the summaries, and the arrays that hold them.
    public var bytesAllocated: Int {
        var bytes = chunks.capacity * MemoryLayout<HistoryChunk>.stride
        for chunk in chunks { bytes += chunk.bytesAllocated }
        return bytes + summaries.capacity * MemoryLayout<ValueSummary>.stride + MemoryLayout<Self>.stride
    }
}

extension HistoryChunk {
    mutating func replay(with detector: inout KLExplosionDetector, visit: (Int, StepVerdict?) -> Void) {
        for offset in 0..<count {
            let verdict = detector.check(step: steps[offset], value: values[offset])
            let band = RunHistory.band(verdict)
            means[offset] = band.mean
            stds[offset] = band.std
            statuses[offset] = verdict?.status ?? .warmingUp
            visit(offset, verdict)
        }
    }

    func summarize(_ range: Range<Int>, into summary: inout ValueSummary) {
        for offset in range {
            summary.add(
                value: values[offset], mean: means[offset], std: stds[offset], status: statuses[offset])
        }
    }
}
