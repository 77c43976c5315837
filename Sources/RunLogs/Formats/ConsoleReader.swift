/// Reads the console output of a training script (`python train.py 2>&1 | kltop -`): the metrics lines of
/// transformers / TRL, veRL and OpenRLHF, among progress bars, warnings and tracebacks.
///
/// Output is cut at `\n` and at `\r` (``ConsoleLineSplitter``); each piece is cleaned of terminal escapes
/// and Ray's worker prefix and recognised by ``ConsoleLineParser``, whose rule (the record is the whole
/// line) keeps dicts quoted in warnings and tracebacks out. Every piece that is not a record is counted in
/// ``ReadStatistics/ignoredLines``, never as bad. A piece that starts like a record but is malformed is bad
/// only if it mentions the KL key (a KL value may have been lost); otherwise it is ignored too.
///
/// transformers' dict lines carry no step: such a record's step is the count (from 1) of dict lines that
/// held the KL key, which is the trainer's global step when `logging_steps` is 1 (eval and summary dicts,
/// which hold no KL, do not advance it). A dict with a `step` or `global_step` key uses that.
public struct ConsoleReader: SampleReader {
    public private(set) var statistics = ReadStatistics()
    private var splitter: ConsoleLineSplitter
    public var heldByteCount: Int { splitter.pendingByteCount }
    private var matcher: MetricKeyMatcher
    /// Dict records without a step that held the KL key.
    private var ordinal: Int64 = 0
    /// Reused buffer for pieces that had escapes taken out.
    private var cleaned: [UInt8] = []
    private let stepKeys = MetricKeys.stepKeys.map { Array($0.utf8) }

    public init(metric: MetricSelection = .automatic, maxLineBytes: Int = 1 << 20) {
        splitter = ConsoleLineSplitter(maxPieceBytes: maxLineBytes)
        matcher = MetricKeyMatcher(selection: metric)
    }

    public var metricKey: String? { matcher.chosenKey }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        statistics.bytes += chunk.count
        withSplitter { splitter, reader in splitter.split(chunk) { reader.handle($0, emit) } }
    }

    public mutating func finish(emit: (MetricSample) -> Void) {
        withSplitter { splitter, reader in splitter.finish { reader.handle($0, emit) } }
    }

    /// Console output is append-only: after a restart everything read is new; the ordinal carries on.
    public mutating func restart() {
        splitter.discardPartialPiece()
    }

    private mutating func withSplitter(_ body: (inout ConsoleLineSplitter, inout ConsoleReader) -> Void) {
        var lent = ConsoleLineSplitter(maxPieceBytes: splitter.maxPieceBytes)
        swap(&lent, &splitter)
        body(&lent, &self)
        swap(&lent, &splitter)
    }

    private mutating func handle(_ piece: ConsoleLineSplitter.Piece, _ emit: (MetricSample) -> Void) {
        switch piece {
        case .tooLong:
            statistics.ignoredLines += 1
        case .text(let text, let line):
            if text.contains(0x1B) {
                var buffer = cleaned
                cleaned = []
                buffer.removeAll(keepingCapacity: true)
                ConsoleText.stripEscapes(text, into: &buffer)
                buffer.withUnsafeBufferPointer { read($0, line: line, emit) }
                cleaned = buffer
            } else {
                read(text, line: line, emit)
            }
        }
    }

    private mutating func read(_ text: UnsafeBufferPointer<UInt8>, line: Int, _ emit: (MetricSample) -> Void)
    {
        let content = ConsoleText.content(of: text)
        guard !content.isEmpty else { return }
        var best: (rank: Int, value: Range<Int>)?
        var step: (rank: Int, value: Range<Int>)?
        let shape = ConsoleLineParser.parse(text, content) { key, value in
            let keyBytes = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text[key]))
            if let rank = matcher.rank(keyBytes) {
                if rank < (best?.rank ?? Int.max) { best = (rank, value) }
            } else if let rank = stepKeys.firstIndex(where: { $0.elementsEqual(keyBytes) }),
                rank < (step?.rank ?? Int.max)
            {
                step = (rank, value)
            }
        }
        let outcome: RecordOutcome
        switch shape {
        case .notARecord:
            statistics.ignoredLines += 1
            return
        case .malformed(let reason):
            guard mentionsMetric(text, content) else {
                statistics.ignoredLines += 1
                return
            }
            outcome = .bad("a metrics line that cannot be read: \(reason)")
        case .record(let statedStep):
            guard let best else {
                outcome = .noMetric
                break
            }
            matcher.choose(rank: best.rank)
            var sampleStep = statedStep ?? step.flatMap { PythonLiteral.integer(text, $0.value) }
            if sampleStep == nil {
                ordinal += 1
                sampleStep = ordinal
            }
            if let value = PythonLiteral.number(text, best.value), let sampleStep {
                outcome = .sample(MetricSample(step: sampleStep, value: value))
            } else {
                outcome = .missingValue
            }
        }
        if let sample = statistics.count(outcome, badLine: { BadLine(lineNumber: line, reason: $0) }) {
            emit(sample)
        }
    }

    /// Whether the text holds the KL key's name (any alias, before one is chosen).
    private func mentionsMetric(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        let keys = matcher.chosenKey.map { [$0] } ?? MetricKeys.klAliases
        return keys.contains { ConsoleLineParser.find(text, range, $0) != nil }
    }
}
