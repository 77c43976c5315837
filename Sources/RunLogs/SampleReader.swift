/// Turns the bytes of one run log, as they arrive, into KL samples.
///
/// Every format (JSON Lines now; CSV, TensorBoard and others later) is one of these, so that following,
/// checking and exporting work the same on all of them.
public protocol SampleReader: Sendable {
    /// The key the KL series is read from, once known.
    var metricKey: String? { get }
    var statistics: ReadStatistics { get }
    /// Reads the next bytes of the log; complete records produce samples, a partial one is held.
    mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void)
    /// The log has ended: reads a last record that was never terminated.
    mutating func finish(emit: (MetricSample) -> Void)
}
