/// Turns the bytes of one run log, as they arrive, into KL samples.
///
/// Every format (JSON Lines, CSV, TensorBoard event files, console output...) is one of these, so that
/// following, checking and exporting work the same on all of them. The source layer owns the bytes: it
/// hands each new piece to ``consume(_:emit:)`` in order, however the writer happened to split it.
public protocol SampleReader: Sendable {
    /// The key the KL series is read from, once known.
    var metricKey: String? { get }
    var statistics: ReadStatistics { get }
    /// Reads the next bytes of the log; complete records produce samples, a partial one is held until the
    /// rest arrives.
    mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void)
    /// The current byte stream has ended (a file read to its end by `check`, a closed pipe, a writer quiet
    /// for long enough, the last of a run's several files): reads a last record that was never terminated,
    /// or counts it as bad. A record a length-framed (or JSON) log ends inside is held as still being
    /// written (``ReadStatistics/heldAtEnd``), and counted as bad only if another stream follows. The reader
    /// may be given another stream afterwards (the run's next file).
    mutating func finish(emit: (MetricSample) -> Void)
    /// The file was truncated, or replaced by one that does not simply extend it, and will be read again
    /// from its first byte. A held partial record is dropped. Readers of formats whose writers rewrite the
    /// whole file to add to it (CSV with a widened header, trainer_state.json) skip the records they
    /// already emitted; readers of append-only formats (JSON Lines) emit everything that follows.
    mutating func restart()
    /// The writer has been quiet for a while with a record held that has no terminator yet: take it if it
    /// is complete on its own, keep holding it otherwise. Never parses half a record.
    mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void)
    /// Bytes of an unfinished record held back.
    var heldByteCount: Int { get }
    /// The run's name as its log records it (a W&B run's display name), once read; nil for formats that
    /// record none. Where it is given, it names the run in place of its path.
    var runName: String? { get }
}

extension SampleReader {
    public var runName: String? { nil }

    /// Formats whose records can only be known complete by their terminator hold on.
    public mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void) {}
}
