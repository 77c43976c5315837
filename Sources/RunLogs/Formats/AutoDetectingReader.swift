/// A reader that recognises its log's format from the first bytes, then reads as that format.
///
/// A live log's first chunk can be half a line, too little to tell JSON Lines from console output, so the
/// first bytes are held (up to 64 KiB) until they are telling (``LogFormat/detect(path:firstBytes:)``: a
/// binary header, lines that all agree, or enough lines to outvote a stray one), the writer goes quiet, or
/// the stream ends; then the real reader is made and handed everything held.
///
/// A file read again from its start (``restart()``: truncated, rewritten) is judged again the same way: a
/// first look may have caught a rewrite half done (stable-baselines3's CSV, half new rows, half old, reads
/// as console text), and the file may now be another writer's. The reader is kept, restarted, when the
/// format is the same (so that a CSV reader still knows the rows it emitted) or when it has read samples
/// (then it was right, and the new look may be the wrong one), and replaced otherwise.
public struct AutoDetectingReader: SampleReader {
    public let path: String
    public let forcedFormat: LogFormat?
    public let metric: MetricSelection
    private var held: [UInt8] = []
    private var inner: (any SampleReader)?
    /// After a restart, bytes are held and judged again before they reach `inner`.
    private var isJudgingAgain = false
    public private(set) var format: LogFormat?
    /// The most held before deciding: room for several of veRL's long lines.
    public static let sniffBytes = 64 << 10
    /// Binary formats show themselves in their first bytes; text needs complete lines.
    static let headerBytes = 64

    public init(path: String, forcedFormat: LogFormat? = nil, metric: MetricSelection) {
        self.path = path
        self.forcedFormat = forcedFormat
        self.metric = metric
        if let forcedFormat { choose(forcedFormat) }
    }

    public var metricKey: String? { inner?.metricKey }
    public var runName: String? { inner?.runName }
    public var statistics: ReadStatistics {
        var statistics = inner?.statistics ?? ReadStatistics()
        statistics.bytes += held.count
        return statistics
    }
    public var heldByteCount: Int { isDeciding ? held.count : inner?.heldByteCount ?? held.count }

    /// Whether bytes are held until their format is known.
    private var isDeciding: Bool { inner == nil || isJudgingAgain }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        if !isDeciding {
            inner!.consume(chunk, emit: emit)
            return
        }
        held += chunk
        // Text can only become more telling when a line completes.
        guard
            held.count <= Self.headerBytes || held.count >= Self.sniffBytes
                || chunk.contains(UInt8(ascii: "\n"))
        else { return }
        guard let format = decidableFormat() else { return }
        decide(format, emit)
    }

    public mutating func finish(emit: (MetricSample) -> Void) {
        if isDeciding {
            guard !held.isEmpty || inner != nil else { return }
            if !held.isEmpty {
                decide(Self.fallback(LogFormat.detect(path: path, firstBytes: held), held), emit)
            }
        }
        inner?.finish(emit: emit)
    }

    public mutating func restart() {
        held.removeAll()
        inner?.restart()
        isJudgingAgain = inner != nil && forcedFormat == nil
    }

    public mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void) {
        if isDeciding {
            guard !held.isEmpty else { return }
            decide(Self.fallback(LogFormat.detect(path: path, firstBytes: held), held), emit)
        }
        inner!.takeHeldRecordIfComplete(emit: emit)
    }

    /// Reads what is held as `format`: with the reader it has if it is that format's, or if it has read
    /// samples (its format was right then, and a look at a rewrite half done can be wrong), else a new one.
    private mutating func decide(_ format: LogFormat?, _ emit: (MetricSample) -> Void) {
        if inner == nil || (format != self.format && inner!.statistics.samples == 0) { choose(format) }
        isJudgingAgain = false
        release(emit)
    }

    /// The format once the held bytes are enough to be sure of it (`.some(nil)`: sure it is none kltop
    /// reads), nil while they are not.
    private func decidableFormat() -> LogFormat?? {
        let detection = LogFormat.detection(path: path, firstBytes: Array(held.prefix(Self.sniffBytes)))
        guard detection.isSettled || held.count >= Self.sniffBytes else { return nil }
        return .some(Self.fallback(detection.format, held))
    }

    /// Text kltop cannot place is read as console output, whose reader skips what is not a record; binary
    /// data it cannot place is nothing it reads (nil).
    private static func fallback(_ detected: LogFormat?, _ bytes: [UInt8]) -> LogFormat? {
        if let detected { return detected }
        if bytes.prefix(sniffBytes).contains(0) { return nil }
        return bytes.isEmpty ? .jsonl : .console
    }

    private mutating func choose(_ format: LogFormat?) {
        self.format = format
        inner =
            format?.makeReader(metric: metric)
            ?? NotAByteStreamReader(
                reason: "not a run log kltop recognises (binary data); name its format with --input-format "
                    + LogFormat.argumentNames.joined(separator: "|"))
    }

    private mutating func release(_ emit: (MetricSample) -> Void) {
        let bytes = held
        held = []
        bytes.withUnsafeBytes { inner!.consume($0, emit: emit) }
    }
}
