#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the `log_history` of a transformers / TRL `trainer_state.json`.
///
/// The trainer writes the file whole (`json.dumps(..., indent=2, sort_keys=True)`) at every checkpoint, so
/// it is one JSON document that can only be read once complete: until its last bracket arrives the bytes
/// are held, which is not an error; ``finish(emit:)`` counts a document still incomplete as cut short.
/// Each `log_history` entry is a record read as a JSON Lines record would be (``JSONLineScanner``: `step`,
/// the first KL alias found, bare `NaN`/`Infinity` as Python's json module writes them). Entries without
/// the KL key (eval entries, the final `train_runtime` summary) are records without KL; the same step may
/// appear several times.
///
/// Each rewrite repeats every earlier entry. Entries are deduplicated by their index in `log_history`: a
/// new document's entries that match, index by index, the (step, KL) of the entries read before are
/// skipped; from the first that differs, and past the end of the old list, they are new (see
/// ``RewriteDeduplicator``). This holds across ``restart()`` and across ``finish(emit:)`` (a later
/// checkpoint's file fed after an earlier one's).
public struct TrainerStateReader: SampleReader {
    /// A document larger than this is not held (about a million log entries).
    public static let defaultMaxDocumentBytes = 512 << 20

    public let maxDocumentBytes: Int
    public private(set) var statistics = ReadStatistics()
    private var scanner: JSONLineScanner
    private var deduplicator = RewriteDeduplicator()
    private var document: [UInt8] = []
    public var heldByteCount: Int { document.count }
    private var boundary = JSONDocumentBoundary()
    private var state = State.reading
    private var reportedBytesAfterDocument = false

    private enum State {
        /// Holding the document's bytes until it is complete.
        case reading
        /// The document was read; later bytes of the same file are not expected.
        case done
        /// The bytes are not a document kltop can read (counted once); the rest of the file is skipped.
        case refused
    }

    public init(metric: MetricSelection = .automatic, maxDocumentBytes: Int = Self.defaultMaxDocumentBytes) {
        scanner = JSONLineScanner(selection: metric)
        self.maxDocumentBytes = maxDocumentBytes
    }

    public var metricKey: String? { scanner.chosenKey }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        statistics.bytes += chunk.count
        guard let base = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        guard case .reading = state else {
            noteBytesAfterDocument(UnsafeBufferPointer(start: base, count: chunk.count))
            return
        }
        let end = boundary.feed(base, chunk.count)
        if boundary.isNotADocument {
            statistics.countBadLine(BadLine(lineNumber: 1, reason: "not a JSON object"))
            document.removeAll()
            state = .refused
            return
        }
        let used = end ?? chunk.count
        if document.count + used > maxDocumentBytes {
            statistics.countBadLine(
                BadLine(lineNumber: 1, reason: "document longer than \(maxDocumentBytes) bytes"))
            document.removeAll()
            state = .refused
            return
        }
        // Spaces before the document are kept too: dropping them only when they came in a chunk of their
        // own made line numbers and sizes depend on how the bytes arrived.
        document.append(contentsOf: UnsafeBufferPointer(start: base, count: used))
        guard end != nil else { return }
        state = .done
        read(emit)
        document.removeAll()
        noteBytesAfterDocument(UnsafeBufferPointer(start: base + used, count: chunk.count - used))
    }

    /// The trainer writes the file whole, so nothing but a newline follows the document; text that does means
    /// the file changed under the reader without a restart. It is counted once, not read.
    private mutating func noteBytesAfterDocument(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard case .done = state, !reportedBytesAfterDocument,
            bytes.contains(where: { !JSONLineScanner.isSpace($0) })
        else { return }
        reportedBytesAfterDocument = true
        statistics.countBadLine(
            BadLine(lineNumber: 1, reason: "text after the end of the JSON document, not read"))
    }

    /// The end of this file: a document still incomplete is counted as cut short. The next bytes are another
    /// copy of the file (a later checkpoint), deduplicated against this one.
    public mutating func finish(emit: (MetricSample) -> Void) {
        if case .reading = state, boundary.hasStarted {
            let lines = document.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            statistics.countBadLine(
                BadLine(
                    lineNumber: lines,
                    reason: "cut short: the JSON document ends after \(document.count) bytes"))
        }
        startNewContent()
    }

    /// The trainer rewrote the file: it is read again whole, and the entries read before are skipped.
    public mutating func restart() {
        startNewContent()
    }

    private mutating func startNewContent() {
        // An entry without a step is numbered by its place among the entries, the same in every copy of the
        // file; counting on across copies gave it a new step each time, so it was never recognised as read.
        scanner.recordCount = 0
        document.removeAll()
        boundary = JSONDocumentBoundary()
        state = .reading
        reportedBytesAfterDocument = false
        deduplicator.startNewContent()
    }

    /// Walks the complete document to `log_history` and reads its entries.
    private mutating func read(_ emit: (MetricSample) -> Void) {
        let problem: String? = document.withUnsafeBufferPointer { buffer in
            guard let p = buffer.baseAddress else { return "empty document" }
            return walk(p, buffer.count, emit)
        }
        if let problem { statistics.countBadLine(BadLine(lineNumber: 1, reason: problem)) }
    }

    private mutating func walk(_ p: UnsafePointer<UInt8>, _ n: Int, _ emit: (MetricSample) -> Void) -> String?
    {
        var i = 0
        JSONLineScanner.skipSpace(p, n, &i)
        guard i < n && p[i] == UInt8(ascii: "{") else { return "not a JSON object" }
        i += 1
        var lines = LineCounter()
        var sawLogHistory = false
        var globalStep: Int?
        var maxSteps: Int?
        while true {
            JSONLineScanner.skipSpace(p, n, &i)
            guard i < n else { return "cut short" }
            if p[i] == UInt8(ascii: "}") { break }
            guard p[i] == UInt8(ascii: "\"") else { return "expected a key" }
            guard let keyEnd = JSONLineScanner.stringEnd(p, n, from: i + 1) else { return "cut short" }
            let isLogHistory = Self.equals(p, (i + 1)..<keyEnd, "log_history")
            let isGlobalStep = Self.equals(p, (i + 1)..<keyEnd, "global_step")
            let isMaxSteps = Self.equals(p, (i + 1)..<keyEnd, "max_steps")
            i = keyEnd + 1
            JSONLineScanner.skipSpace(p, n, &i)
            guard i < n && p[i] == UInt8(ascii: ":") else { return "expected ':' after a key" }
            i += 1
            JSONLineScanner.skipSpace(p, n, &i)
            guard i < n else { return "cut short" }
            // Only the first log_history is read: no writer writes two, and reading a second offered the
            // deduplicator the same positions twice, so a copy of the file was not recognised as read.
            if isLogHistory && !sawLogHistory && p[i] == UInt8(ascii: "[") {
                sawLogHistory = true
                if let problem = readEntries(p, n, &i, &lines, emit) { return "log_history: " + problem }
            } else {
                let start = i
                if let problem = JSONLineScanner.skipValue(p, n, &i) { return problem }
                if isGlobalStep || isMaxSteps {
                    let value = Int(
                        String(
                            decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self))
                    if isGlobalStep { globalStep = value } else { maxSteps = value }
                }
            }
            JSONLineScanner.skipSpace(p, n, &i)
            guard i < n else { return "cut short" }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { return "expected ',' or '}'" }
            break
        }
        // The trainer writes its state with `global_step` reaching `max_steps` when training is over.
        if let globalStep, let maxSteps, maxSteps > 0, globalStep >= maxSteps {
            statistics.runFinished = true
        }
        return sawLogHistory ? nil : "no log_history in the document: not a trainer_state.json"
    }

    /// Reads the array at `i`, one record per entry, leaving `i` past its `]`.
    /// Entries without the KL key whose keys were listed in ``ReadStatistics/keysSeen``: the first few say
    /// what the log holds (and why it holds no KL); listing every entry's would cost the scan its speed.
    private var entriesListed = 0
    private static let entriesToList = 8

    private mutating func readEntries(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, _ lines: inout LineCounter,
        _ emit: (MetricSample) -> Void
    ) -> String? {
        i += 1
        var index = 0
        while true {
            JSONLineScanner.skipSpace(p, n, &i)
            guard i < n else { return "cut short" }
            if p[i] == UInt8(ascii: "]") {
                i += 1
                return nil
            }
            let start = i
            if let problem = JSONLineScanner.skipValue(p, n, &i) { return problem }
            let line = lines.line(at: start, in: p)
            let outcome: RecordOutcome
            var step: Int64?
            switch scanner.scan(UnsafeBufferPointer(start: p + start, count: i - start)) {
            case .sample(let sample):
                outcome = .sample(sample)
                step = sample.step
            case .missingValue: outcome = .missingValue
            case .noMetric, .blank:
                outcome = .noMetric
                if entriesListed < Self.entriesToList {
                    entriesListed += 1
                    let entry = UnsafeBufferPointer(start: p + start, count: i - start)
                    for key in JSONLineScanner.keys(of: entry) where !statistics.keysSeen.contains(key) {
                        statistics.keysSeen.append(key)
                    }
                }
            case .bad(let reason): outcome = .bad("log_history entry \(index): \(reason)")
            }
            if deduplicator.isNew(
                position: index, fingerprint: RewriteDeduplicator.fingerprint(outcome, step: step)),
                let sample = statistics.count(outcome, badLine: { BadLine(lineNumber: line, reason: $0) })
            {
                emit(sample)
            }
            index += 1
            JSONLineScanner.skipSpace(p, n, &i)
            guard i < n else { return "cut short" }
            if p[i] == UInt8(ascii: ",") {
                i += 1
            } else if p[i] != UInt8(ascii: "]") {
                return "expected ',' or ']'"
            }
        }
    }

    private static func equals(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        return memcmp(p + range.lowerBound, text.utf8Start, range.count) == 0
    }

    /// Line numbers of positions met in increasing order, counting each newline once.
    private struct LineCounter {
        private var position = 0
        private var line = 1

        mutating func line(at target: Int, in p: UnsafePointer<UInt8>) -> Int {
            while position < target, let newline = memchrByte(p + position, 0x0A, target - position) {
                line += 1
                position = p.distance(to: newline) + 1
            }
            position = max(position, target)
            return line
        }
    }
}
