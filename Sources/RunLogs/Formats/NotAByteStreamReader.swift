/// Stands in for a reader where the log is not a byte stream (rlwatch's SQLite store): reads nothing, and
/// reports one bad record with the reason, so that a caller that picked it by mistake says why nothing came.
struct NotAByteStreamReader: SampleReader {
    let reason: String
    private(set) var statistics = ReadStatistics()
    var metricKey: String? { nil }
    var heldByteCount: Int { 0 }

    init(reason: String) {
        self.reason = reason
    }

    mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        if statistics.bytes == 0 && chunk.count > 0 {
            statistics.countBadLine(BadLine(lineNumber: 1, reason: reason))
        }
        statistics.bytes += chunk.count
    }

    mutating func finish(emit: (MetricSample) -> Void) {}
    mutating func restart() {}
}
