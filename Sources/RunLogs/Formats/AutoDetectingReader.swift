/// A reader that recognises its log's format from the first bytes, then reads as that format.
///
/// A live log's first chunk can be half a line, too little to tell JSON Lines from console output, so the
/// first bytes are held (up to 4 KiB) until a line is complete, a binary header has shown itself, or the
/// stream ends; then the real reader is made and handed everything held.
public struct AutoDetectingReader: SampleReader {
    public let path: String
    public let forcedFormat: LogFormat?
    public let metric: MetricSelection
    private var held: [UInt8] = []
    private var inner: (any SampleReader)?
    public private(set) var format: LogFormat?
    /// The most bytes the format is recognised from.
    public static let sniffBytes = 4096

    public init(path: String, forcedFormat: LogFormat? = nil, metric: MetricSelection) {
        self.path = path
        self.forcedFormat = forcedFormat
        self.metric = metric
        if let forcedFormat { choose(forcedFormat) }
    }

    public var metricKey: String? { inner?.metricKey }
    public var statistics: ReadStatistics {
        var statistics = inner?.statistics ?? ReadStatistics()
        statistics.bytes += held.count
        return statistics
    }
    public var heldByteCount: Int { inner?.heldByteCount ?? held.count }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        if inner != nil {
            inner!.consume(chunk, emit: emit)
            return
        }
        held += chunk
        guard let format = decidableFormat() else { return }
        choose(format)
        release(emit)
    }

    public mutating func finish(emit: (MetricSample) -> Void) {
        if inner == nil {
            guard !held.isEmpty else { return }
            choose(Self.fallback(LogFormat.detect(path: path, firstBytes: held), held))
            release(emit)
        }
        inner!.finish(emit: emit)
    }

    public mutating func restart() {
        held.removeAll()
        inner?.restart()
    }

    public mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void) {
        if inner == nil {
            guard !held.isEmpty else { return }
            choose(Self.fallback(LogFormat.detect(path: path, firstBytes: held), held))
            release(emit)
        }
        inner!.takeHeldRecordIfComplete(emit: emit)
    }

    /// The format once the held bytes are enough to be sure of it (`.some(nil)`: sure it is none kltop
    /// reads), nil while they are not.
    private func decidableFormat() -> LogFormat?? {
        let detected = LogFormat.detect(path: path, firstBytes: Array(held.prefix(Self.sniffBytes)))
        if held.count >= Self.sniffBytes { return .some(Self.fallback(detected, held)) }
        switch detected {
        case .tensorboard, .rlwatchStore: return .some(detected)
        case .jsonl, .csv, .console, .trainerState, nil:
            // Text is only judged on complete lines (two for CSV, whose header alone says little).
            let lines = held.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            if held.contains(0) { return .some(nil) }
            return lines >= (detected == .csv ? 2 : 1) ? .some(Self.fallback(detected, held)) : nil
        }
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
