/// Reads the console output of a training script (`python train.py 2>&1 | kltop -`): the metrics lines of
/// transformers / TRL, veRL, OpenRLHF, torchtune (its `DiskLogger` file `logs/log_<unix>.txt` too), ROLL and
/// slime, SkyRL's multi-line dicts and stable-baselines3's boxed tables, among progress bars, warnings and
/// tracebacks.
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
///
/// A stable-baselines3 table (``ConsoleTableParser``) is one record whose step is its
/// `time/total_timesteps` row (``MetricKeys/tableStepKeys``, as in SB3's `progress.csv`); its values have
/// three significant digits only. Its lines count neither as ignored nor as bad; a table cut off before its
/// closing dashes counts one bad line if it had shown a KL row; its other lines are ignored.
///
/// SkyRL's `Step N:` header and the dict on the lines after it (``ConsoleDictCollector``) are one record
/// too, counted when the dict closes. Until then it is held (``heldByteCount``): a live file that ends
/// inside it has its step reported once the rest is written. A dict that will not close (another line from
/// its process, the end of the stream, more than `maxLineBytes`) counts one bad line if its text holds the
/// KL key's name; its other lines are ignored.
public struct ConsoleReader: SampleReader {
    public private(set) var statistics = ReadStatistics()
    private var splitter: ConsoleLineSplitter
    public var heldByteCount: Int { splitter.pendingByteCount + dict.heldByteCount }
    private var matcher: MetricKeyMatcher
    /// Dict records without a step that held the KL key.
    private var ordinal: Int64 = 0
    /// Reused buffer for pieces that had escapes taken out.
    private var cleaned: [UInt8] = []
    private let stepKeys = MetricKeys.stepKeys.map { Array($0.utf8) }
    private var table = ConsoleTableParser()
    /// What the open table's rows held of the KL key and the step.
    private var tableRecord = TableRecord()
    private let tableStepKeys = MetricKeys.tableStepKeys.map { Array($0.utf8) }
    /// The line of the open table's last line read: where a table never closed is reported.
    private var tableLine = 1
    private var dict: ConsoleDictCollector

    public init(metric: MetricSelection = .automatic, maxLineBytes: Int = 1 << 20) {
        splitter = ConsoleLineSplitter(maxPieceBytes: maxLineBytes)
        dict = ConsoleDictCollector(maxBytes: maxLineBytes)
        matcher = MetricKeyMatcher(selection: metric)
    }

    public var metricKey: String? { matcher.chosenKey }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        statistics.bytes += chunk.count
        withSplitter { splitter, reader in splitter.split(chunk) { reader.handle($0, emit) } }
    }

    public mutating func finish(emit: (MetricSample) -> Void) {
        withSplitter { splitter, reader in splitter.finish { reader.handle($0, emit) } }
        if let rows = table.giveUp() { tableBrokenOff(rows: rows, line: tableLine) }
        if dict.isOpen { dictGivenUp() }
    }

    /// Console output is append-only: after a restart everything read is new; the ordinal carries on. A
    /// table left open will not be closed.
    public mutating func restart() {
        splitter.discardPartialPiece()
        if let rows = table.giveUp() { tableBrokenOff(rows: rows, line: tableLine) }
        if dict.isOpen { dictGivenUp() }
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

    /// Records without the KL key whose keys were listed in ``ReadStatistics/keysSeen`` (bounded: listing
    /// every record's would cost the scan its speed).
    private var recordsListed = 0
    private static let recordsToList = 8

    private mutating func read(_ text: UnsafeBufferPointer<UInt8>, line: Int, _ emit: (MetricSample) -> Void)
    {
        if dict.isOpen && readDictLine(text, emit) { return }
        let content = ConsoleText.content(of: text)
        guard !content.isEmpty else { return }
        if readTableLine(text, content, line: line, emit) { return }
        let shape = readRecord(text, content, line: line, emit) { ConsoleLineParser.parse($0, $1, entry: $2) }
        if case .dictFollows(let step) = shape {
            // Another process's header while a dict is open: the open one cannot be told from it later.
            if dict.isOpen { dictGivenUp() }
            let source = ConsoleText.source(of: text).prefix
            if source.count <= ConsoleDictCollector.maxSourceBytes {
                dict.open(step: step, source: source, line: line)
            } else {
                statistics.ignoredLines += 1
            }
        }
    }

    /// Reads one record (a line, or a multi-line dict as one text) whose shape `parse` tells, and counts it;
    /// returns the shape. A ``ConsoleLineParser/Shape/dictFollows(step:)`` is left to the caller.
    @discardableResult
    private mutating func readRecord(
        _ text: UnsafeBufferPointer<UInt8>, _ content: Range<Int>, line: Int, lines: Int = 1,
        _ emit: (MetricSample) -> Void,
        parse: (UnsafeBufferPointer<UInt8>, Range<Int>, (Range<Int>, Range<Int>) -> Void) ->
            ConsoleLineParser
            .Shape
    ) -> ConsoleLineParser.Shape {
        var best: (rank: Int, key: Range<Int>, value: Range<Int>)?
        var step: (rank: Int, value: Range<Int>)?
        let shape = parse(text, content) { key, value in
            let keyBytes = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text[key]))
            if let rank = matcher.rank(keyBytes) {
                if rank < (best?.rank ?? Int.max) { best = (rank, key, value) }
            } else if let rank = stepKeys.firstIndex(where: { $0.elementsEqual(keyBytes) }),
                rank < (step?.rank ?? Int.max)
            {
                step = (rank, value)
            }
        }
        let outcome: RecordOutcome
        switch shape {
        case .notARecord, .dictFollows:
            if case .notARecord = shape { statistics.ignoredLines += lines }
            return shape
        case .malformed(let reason):
            guard mentionsMetric(text, content) else {
                statistics.ignoredLines += lines
                return shape
            }
            statistics.ignoredLines += lines - 1
            outcome = .bad("a metrics line that cannot be read: \(reason)")
        case .record(let statedStep):
            guard let best else {
                outcome = .noMetric
                if recordsListed < Self.recordsToList {
                    // Read again for its keys: the first few records without KL say what the log holds.
                    recordsListed += 1
                    _ = parse(text, content) { key, _ in
                        let name = String(decoding: UnsafeBufferPointer(rebasing: text[key]), as: UTF8.self)
                        if !statistics.keysSeen.contains(name) { statistics.keysSeen.append(name) }
                    }
                }
                break
            }
            matcher.choose(rank: best.rank, key: String(decoding: text[best.key], as: UTF8.self))
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
        return shape
    }

    /// Offers a line to the open multi-line dict; false if it is no part of it (read it on its own).
    private mutating func readDictLine(_ text: UnsafeBufferPointer<UInt8>, _ emit: (MetricSample) -> Void)
        -> Bool
    {
        let (source, indented) = ConsoleText.source(of: text)
        let content = ConsoleText.content(of: text)
        switch dict.take(text, source: source, content: content, indented: indented) {
        case .notMine:
            return false
        case .taken:
            return true
        case .givenUp(let lineTaken):
            dictGivenUp()
            return lineTaken
        case .closed:
            dict.close()
            let step = dict.step
            let lines = dict.lines
            let headerLine = dict.headerLine
            let whole = dict.text
            whole.withUnsafeBufferPointer { whole in
                _ = readRecord(whole, 0..<whole.count, line: headerLine, lines: lines, emit) {
                    t, range, entry in
                    if let problem = PythonLiteral.forEachDictEntry(t, range, entry) {
                        return .malformed(problem)
                    }
                    return .record(step: step)
                }
            }
            return true
        }
    }

    /// The open multi-line dict will not close: its lines were read for nothing; one of them is a bad line
    /// if it held the KL key's name (a KL value may have been lost), as for a malformed line.
    private mutating func dictGivenUp() {
        dict.close()
        let mentions = dict.text.withUnsafeBufferPointer { mentionsMetric($0, 0..<$0.count) }
        if mentions {
            statistics.countBadLine(
                BadLine(
                    lineNumber: dict.headerLine,
                    reason: "a metrics dict cut off before its closing bracket, after \(dict.lines) lines"))
            statistics.ignoredLines += dict.lines - 1
        } else {
            statistics.ignoredLines += dict.lines
        }
    }

    /// Reads a line as part of a stable-baselines3 table; false if it is none (read it as a line of its own).
    private mutating func readTableLine(
        _ text: UnsafeBufferPointer<UInt8>, _ content: Range<Int>, line: Int, _ emit: (MetricSample) -> Void
    ) -> Bool {
        var parser = ConsoleTableParser()
        swap(&parser, &table)
        defer { swap(&parser, &table) }
        let openedEmpty = parser.isOpen && parser.rows == 0
        let step = parser.read(text, content) { key, value in
            if let rank = matcher.rank(key) {
                tableRecord.note(metric: rank, key: key, text[value])
            } else if let rank = tableStepKeys.firstIndex(where: { $0.elementsEqual(key) }) {
                tableRecord.note(step: rank, text[value])
            }
        }
        if parser.isOpen { tableLine = line }
        switch step {
        case .notATableLine:
            return false
        case .opened:
            // Dashes after dashes: the first line opened no table.
            if openedEmpty { statistics.ignoredLines += 1 }
            tableRecord = TableRecord()
            return true
        case .row:
            return true
        case .closed:
            closeTable(line: line, emit)
            return true
        case .brokenOff(let rows):
            tableBrokenOff(rows: rows, line: line)
            return false
        }
    }

    private mutating func closeTable(line: Int, _ emit: (MetricSample) -> Void) {
        let record = tableRecord
        tableRecord = TableRecord()
        let outcome: RecordOutcome
        if let rank = record.metricRank {
            matcher.choose(rank: rank, key: String(decoding: record.metricKey, as: UTF8.self))
            var step = record.step.withUnsafeBufferPointer { PythonLiteral.integer($0, 0..<$0.count) }
            if step == nil {
                ordinal += 1
                step = ordinal
            }
            if let value = record.metric.withUnsafeBufferPointer({ PythonLiteral.number($0, 0..<$0.count) }),
                let step
            {
                outcome = .sample(MetricSample(step: step, value: value))
            } else {
                outcome = .missingValue
            }
        } else {
            outcome = .noMetric
        }
        if let sample = statistics.count(outcome, badLine: { BadLine(lineNumber: line, reason: $0) }) {
            emit(sample)
        }
    }

    /// A table that will not be closed: its lines (the opening dashes and `rows` rows) were read for
    /// nothing. One of them is a bad line if a KL row was among them (a KL value was lost), the rest are
    /// ignored: so the sum of the two does not depend on whether the KL key had been chosen yet, as for a
    /// malformed line.
    private mutating func tableBrokenOff(rows: Int, line: Int) {
        if tableRecord.metricRank != nil {
            statistics.countBadLine(
                BadLine(
                    lineNumber: line,
                    reason: "a stable-baselines3 table cut off before its closing line, after \(rows) rows"))
            statistics.ignoredLines += rows
        } else {
            statistics.ignoredLines += rows + 1
        }
        tableRecord = TableRecord()
    }

    /// Whether the text holds the KL key's name (any alias, before one is chosen).
    private func mentionsMetric(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        let keys = matcher.chosenKey.map { [$0] } ?? MetricKeys.klAliases
        return keys.contains { ConsoleLineParser.find(text, range, $0) != nil }
    }
}

/// The KL value and step a stable-baselines3 table showed so far, as printed: the best-ranked of each.
private struct TableRecord {
    var metricRank: Int?
    var metricKey: [UInt8] = []
    var metric: [UInt8] = []
    var stepRank: Int?
    var step: [UInt8] = []

    mutating func note(
        metric rank: Int, key: UnsafeRawBufferPointer, _ value: Slice<UnsafeBufferPointer<UInt8>>
    ) {
        guard rank < (metricRank ?? Int.max) else { return }
        metricRank = rank
        metricKey = Array(key)
        metric = Array(value)
    }

    mutating func note(step rank: Int, _ value: Slice<UnsafeBufferPointer<UInt8>>) {
        guard rank < (stepRank ?? Int.max) else { return }
        stepRank = rank
        step = Array(value)
    }
}
