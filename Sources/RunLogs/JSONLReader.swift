/// Reads JSON Lines run logs: flat records, veRL's `{"step": ..., "data": {...}}`, with the quirks Python
/// writers produce (see ``JSONLineScanner``).
public struct JSONLReader: SampleReader {
    private var splitter: LineSplitter
    private var scanner: JSONLineScanner
    public private(set) var statistics = ReadStatistics()

    public init(metric: MetricSelection = .automatic, maxLineBytes: Int = 1 << 20) {
        splitter = LineSplitter(maxLineBytes: maxLineBytes)
        scanner = JSONLineScanner(selection: metric)
    }

    public var metricKey: String? { scanner.chosenKey }
    private var maxLineBytes: Int { splitter.maxLineBytes }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        if !chunk.isEmpty { statistics.endHeldRecordAsBad() }
        statistics.bytes += chunk.count
        withSplitter { splitter, reader in splitter.split(chunk) { reader.handle($0, emit) } }
    }

    /// A last line without its newline is read; one the stream ends inside (an object not closed yet) is
    /// said as still being written (``ReadStatistics/heldAtEnd``), not counted as bad: a Python writer
    /// flushes its buffer when it fills, so a live log may end anywhere.
    public mutating func finish(emit: (MetricSample) -> Void) {
        let held = splitter.pendingByteCount
        withSplitter { splitter, reader in
            splitter.finish { piece in
                // Looked at with a copy: scanning a record also counts it (its ordinal, the key's choice).
                var probe = reader.scanner
                if case .line(let bytes, let number) = piece, bytes.first != 0,
                    case .bad("cut short") = probe.scan(bytes)
                {
                    reader.statistics.holdAtEnd(BadLine(lineNumber: number, reason: "cut short"), bytes: held)
                } else {
                    reader.handle(piece, emit)
                }
            }
        }
    }

    public var heldByteCount: Int { splitter.pendingByteCount }

    /// A held line is taken only if it already scans as a whole record: half a record fails the scan (an
    /// unclosed object) and stays held.
    public mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void) {
        var scanner = self.scanner
        guard let outcome = splitter.withPartialLine({ scanner.scan($0) }) else { return }
        switch outcome {
        case .bad, .blank: return
        case .sample, .missingValue, .noMetric: break
        }
        self.scanner = scanner
        // As ``handle(_:_:)`` does with a line that has its newline.
        if wantsKeys(of: outcome), let line = splitter.withPartialLine({ Array($0) }) {
            line.withUnsafeBufferPointer { listKeys(of: $0) }
        }
        splitter.takePartialLine()
        count(outcome, lineNumber: splitter.lineNumber, emit)
    }

    /// After truncation or replacement every line that follows is new: the log is append-only, so nothing is
    /// skipped. The chosen key and the record count (ordinal steps) carry on.
    public mutating func restart() {
        statistics.endHeldRecordAsBad()
        splitter.discardPartialLine()
    }

    /// Lends the splitter out while lines are handled, so that handling may mutate the reader without
    /// overlapping the splitter's own mutation (and without copying its held bytes).
    private mutating func withSplitter(_ body: (inout LineSplitter, inout JSONLReader) -> Void) {
        var lent = LineSplitter(maxLineBytes: splitter.maxLineBytes)
        swap(&lent, &splitter)
        body(&lent, &self)
        swap(&lent, &splitter)
    }

    private mutating func handle(_ piece: LineSplitter.Piece, _ emit: (MetricSample) -> Void) {
        switch piece {
        case .tooLong(let number):
            statistics.countBadLine(BadLine(lineNumber: number, reason: "longer than \(maxLineBytes) bytes"))
        case .line(let bytes, let number):
            let outcome = scanner.scan(bytes)
            if wantsKeys(of: outcome) { listKeys(of: bytes) }
            if case .bad = outcome, bytes.first == 0 {
                readAfterNULs(bytes, lineNumber: number, emit)
            } else {
                count(outcome, lineNumber: number, emit)
            }
        }
    }

    /// Records without the KL key whose keys were listed in ``ReadStatistics/keysSeen``: the first few say
    /// what the log holds; listing every record's would cost the scan its speed.
    private var recordsListed = 0
    private static let recordsToList = 8

    /// Whether a record read with `outcome` has its keys listed: one without the KL key, among the first.
    private func wantsKeys(of outcome: JSONLineScanner.Outcome) -> Bool {
        if case .noMetric = outcome { return recordsListed < Self.recordsToList }
        return false
    }

    private mutating func listKeys(of line: UnsafeBufferPointer<UInt8>) {
        recordsListed += 1
        for key in JSONLineScanner.keys(of: line) where !statistics.keysSeen.contains(key) {
            statistics.keysSeen.append(key)
        }
    }

    /// A crash can leave a run of NULs where blocks were never written, and the writer's next record then
    /// follows them on the same line: the NULs are a bad line, the record after them is read.
    private mutating func readAfterNULs(
        _ bytes: UnsafeBufferPointer<UInt8>, lineNumber number: Int, _ emit: (MetricSample) -> Void
    ) {
        let nuls = bytes.prefix { $0 == 0 }.count
        let rest = scanner.scan(UnsafeBufferPointer(rebasing: bytes[nuls...]))
        let reason = "\(nuls) NUL bytes (never written, as a crash leaves them)"
        if case .bad(let problem) = rest {
            statistics.countBadLine(BadLine(lineNumber: number, reason: reason + ", then " + problem))
            return
        }
        statistics.countBadLine(BadLine(lineNumber: number, reason: reason))
        count(rest, lineNumber: number, emit)
    }

    private mutating func count(
        _ outcome: JSONLineScanner.Outcome, lineNumber number: Int, _ emit: (MetricSample) -> Void
    ) {
        switch outcome {
        case .sample(let sample):
            statistics.records += 1
            statistics.samples += 1
            if scanner.unusableSteps != statistics.unusableSteps {
                statistics.unusableSteps = scanner.unusableSteps
                if statistics.firstUnusableStep == nil {
                    statistics.firstUnusableStep = BadLine(
                        lineNumber: number, reason: scanner.firstUnusableStep ?? "")
                }
            }
            emit(sample)
        case .missingValue:
            statistics.records += 1
            statistics.missingValues += 1
        case .noMetric:
            statistics.records += 1
        case .bad(let reason):
            statistics.countBadLine(BadLine(lineNumber: number, reason: reason))
        case .blank:
            break
        }
    }
}
