#if canImport(Glibc)
    import Glibc
#endif

/// Reads a log that may be compressed: the first bytes of each stream say whether it is gzip or zstd
/// (``Compression/recognise(_:)``), and if so what the reader underneath gets is the decompressed bytes.
/// Anything else passes through untouched.
///
/// Every stream is judged on its own: a run's files may be compressed or not one by one (logrotate's
/// `train.log.2.gz`, `train.log.1`, `train.log`), so after ``finish(emit:)`` and ``restart()`` the next
/// bytes are judged again. A stream that ends before its compressed data does (a truncated file, a
/// transfer cut short) is read as far as it goes and counted as one bad line saying so; so is corrupt data,
/// after which the rest of that stream is skipped.
///
/// A stream being decompressed is a ``Decompressor`` object, shared by copies of the reader: a copy is
/// only made to go back to between streams (the follower keeps one at a file's first byte), where there is
/// none.
public struct DecompressingReader<Inner: SampleReader>: SampleReader {
    private var inner: Inner
    /// The first bytes of the stream, held until they tell whether it is compressed (at most 4).
    private var sniffed: [UInt8] = []
    private var mode = Mode.sniffing
    private enum Mode {
        case sniffing
        case plain
        case compressed(Decompressor)
    }
    /// Input bytes, compressed or not.
    private var bytes = 0
    /// Lines of the current stream's decompressed text, to say where a problem is.
    private var newlines = 0
    /// What went wrong with compressed streams: cut short, corrupt.
    private var problems: [BadLine] = []
    /// Whether the current stream's problem has been counted (one per stream).
    private var counted = false

    public init(_ inner: Inner) {
        self.inner = inner
    }

    public var metricKey: String? { inner.metricKey }
    public var runName: String? { inner.runName }

    public var statistics: ReadStatistics {
        var statistics = inner.statistics
        statistics.bytes = bytes
        // Kept before the reader's own bad lines: corrupt data goes on to make bad lines of its own, and
        // the one that says why must not be crowded out.
        statistics.badLines += problems.count
        statistics.firstBadLines = Array(
            (problems + statistics.firstBadLines).prefix(ReadStatistics.keptBadLines))
        return statistics
    }

    public var heldByteCount: Int { sniffed.count + inner.heldByteCount }

    /// The compression of the stream being read, once its first bytes have told.
    public var compression: Compression? {
        if case .compressed(let decompressor) = mode { return decompressor.compression }
        return nil
    }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        bytes += chunk.count
        switch mode {
        case .plain:
            inner.consume(chunk, emit: emit)
        case .compressed(let decompressor):
            decompress(chunk, with: decompressor, emit)
        case .sniffing:
            let earlier = sniffed
            sniffed += chunk.prefix(4 - earlier.count)
            // Undecided only while fewer than 4 bytes have come: then all of them are held.
            guard let recognised = Compression.recognise(sniffed) else { return }
            sniffed = []
            if let compression = recognised {
                let decompressor = Decompressor(compression)
                mode = .compressed(decompressor)
                earlier.withUnsafeBytes { decompress($0, with: decompressor, emit) }
                decompress(chunk, with: decompressor, emit)
            } else {
                mode = .plain
                earlier.withUnsafeBytes { inner.consume($0, emit: emit) }
                inner.consume(chunk, emit: emit)
            }
        }
    }

    public mutating func finish(emit: (MetricSample) -> Void) {
        switch mode {
        case .sniffing:
            // Too short to be compressed data: whatever it is, the reader underneath judges it.
            releaseSniffedBytes(emit)
        case .compressed(let decompressor):
            if decompressor.failure == nil && !decompressor.isAtEndOfData {
                count(
                    "the \(decompressor.compression.rawValue) data ends early, at byte \(decompressor.consumed) "
                        + "(the file is cut short): read as far as it goes")
            }
        case .plain: break
        }
        inner.finish(emit: emit)
        startNewStream()
    }

    public mutating func restart() {
        sniffed = []
        inner.restart()
        startNewStream()
    }

    public mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void) {
        if case .sniffing = mode { releaseSniffedBytes(emit) }
        inner.takeHeldRecordIfComplete(emit: emit)
    }

    private mutating func decompress(
        _ chunk: UnsafeRawBufferPointer, with decompressor: Decompressor, _ emit: (MetricSample) -> Void
    ) {
        decompressor.decompress(chunk) { output in
            newlines += Self.newlines(in: output)
            inner.consume(output, emit: emit)
        }
        if let failure = decompressor.failure { count(failure) }
    }

    /// Held bytes the stream ended or paused on before they could tell: not compressed data.
    private mutating func releaseSniffedBytes(_ emit: (MetricSample) -> Void) {
        guard !sniffed.isEmpty else { return }
        let held = sniffed
        sniffed = []
        mode = .plain
        held.withUnsafeBytes { inner.consume($0, emit: emit) }
    }

    private mutating func count(_ reason: String) {
        guard !counted else { return }
        counted = true
        problems.append(BadLine(lineNumber: newlines + 1, reason: reason))
    }

    private mutating func startNewStream() {
        mode = .sniffing
        newlines = 0
        counted = false
    }

    private static func newlines(in bytes: UnsafeRawBufferPointer) -> Int {
        guard var cursor = bytes.baseAddress else { return 0 }
        let end = cursor + bytes.count
        var count = 0
        while cursor < end, let found = memchr(cursor, 0x0A, end - cursor) {
            count += 1
            cursor = UnsafeRawPointer(found) + 1
        }
        return count
    }
}
