/// Reads CSV metric logs with a header row: stable-baselines3's `progress.csv`, Lightning's `metrics.csv`,
/// and exports of the same shape (W&B).
///
/// Columns are found by name in the header: the KL column by ``MetricKeyMatcher`` (the best alias the header
/// holds), the step column by ``MetricKeys/tableStepKeys``; without a step column, or in a row whose step
/// cell is empty, the data row's ordinal (0-based) is the step. Rows are sparse: an empty KL cell is a row
/// without KL, not a missing value; a cell that is not a number (`None`, text) is a missing value. `nan`,
/// `inf`, `-inf` are numbers. Cells may be quoted (`""` inside is a quote); lines may end in `\r\n`.
///
/// A data row with more or fewer cells than the header is bad: both writers always write every cell.
///
/// Both writers add a key by rewriting the whole file with a wider header (Lightning also re-sorts the
/// columns). The source layer then calls ``restart()`` and feeds the file again from byte 0; the rows
/// already read are recognised by position and skipped (see ``RewriteDeduplicator``), so no row is emitted
/// twice nor lost. ``finish(emit:)`` ends a file the same way: the next bytes are read as a new file
/// starting with its header, and its rows are compared with those read before.
public struct CSVReader: SampleReader {
    public private(set) var statistics = ReadStatistics()
    private var splitter: CSVRecordSplitter
    public var heldByteCount: Int { splitter.pendingByteCount }
    private var matcher: MetricKeyMatcher
    private var deduplicator = RewriteDeduplicator()
    private var columns: Columns?
    /// Data rows of the current content so far.
    private var rowIndex = 0

    /// Where the wanted cells are, from the header.
    private struct Columns {
        var count: Int
        var kl: Int?
        var step: Int?
    }

    public init(metric: MetricSelection = .automatic, maxRecordBytes: Int = 1 << 20) {
        splitter = CSVRecordSplitter(maxRecordBytes: maxRecordBytes)
        matcher = MetricKeyMatcher(selection: metric)
    }

    public var metricKey: String? { matcher.chosenKey }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        statistics.bytes += chunk.count
        withSplitter { splitter, reader in splitter.split(chunk) { reader.handle($0, emit) } }
    }

    public mutating func finish(emit: (MetricSample) -> Void) {
        withSplitter { splitter, reader in splitter.finish { reader.handle($0, emit) } }
        startNewContent()
    }

    /// The file was rewritten (a wider header) or replaced: it is read again from its header, and its rows
    /// that match the rows read before, position by position, are skipped.
    public mutating func restart() {
        splitter.discardPartialRecord()
        startNewContent()
    }

    private mutating func startNewContent() {
        columns = nil
        rowIndex = 0
        deduplicator.startNewContent()
    }

    /// Lends the splitter out while records are handled (see ``JSONLReader``).
    private mutating func withSplitter(_ body: (inout CSVRecordSplitter, inout CSVReader) -> Void) {
        var lent = CSVRecordSplitter(maxRecordBytes: splitter.maxRecordBytes)
        swap(&lent, &splitter)
        body(&lent, &self)
        swap(&lent, &splitter)
    }

    private mutating func handle(_ piece: CSVRecordSplitter.Piece, _ emit: (MetricSample) -> Void) {
        switch piece {
        case .tooLong(let line):
            if columns == nil {
                statistics.countBadLine(
                    BadLine(lineNumber: line, reason: "header longer than \(splitter.maxRecordBytes) bytes"))
                return
            }
            admit(.bad("longer than \(splitter.maxRecordBytes) bytes"), step: nil, line: line, emit)
        case .record(let bytes, let line, let hasQuotes):
            let cells = CSVCells(bytes, hasQuotes: hasQuotes)
            if cells.isBlank { return }
            guard let columns else {
                // A byte-order mark (Excel, Windows tools) before the first column name.
                let text =
                    bytes.starts(with: [0xEF, 0xBB, 0xBF])
                    ? UnsafeBufferPointer(rebasing: bytes[3...]) : bytes
                readHeader(CSVCells(text, hasQuotes: hasQuotes), line: line)
                return
            }
            let (outcome, step) = read(cells, columns)
            admit(outcome, step: step, line: line, emit)
        }
    }

    private mutating func admit(
        _ outcome: RecordOutcome, step: Int64?, line: Int, _ emit: (MetricSample) -> Void
    ) {
        let position = rowIndex
        rowIndex += 1
        let fingerprint = RewriteDeduplicator.fingerprint(outcome, step: step)
        guard deduplicator.isNew(position: position, fingerprint: fingerprint) else { return }
        if let sample = statistics.count(outcome, badLine: { BadLine(lineNumber: line, reason: $0) }) {
            emit(sample)
        }
    }

    private mutating func readHeader(_ cells: CSVCells, line: Int) {
        let names = cells.strings()
        statistics.keysSeen = names
        var best: (rank: Int, column: Int)?
        for (column, name) in names.enumerated() {
            if let rank = matcher.rank(name), rank < (best?.rank ?? Int.max) { best = (rank, column) }
        }
        if let best { matcher.choose(rank: best.rank, key: names[best.column]) }
        let step = MetricKeys.tableStepKeys.lazy.compactMap { names.firstIndex(of: $0) }.first
        columns = Columns(count: names.count, kl: best?.column, step: step)
    }

    /// The outcome of a data row, and its step (for the fingerprint of a row without KL).
    private func read(_ cells: CSVCells, _ columns: Columns) -> (RecordOutcome, Int64?) {
        let wanted = [columns.kl ?? -1, columns.step ?? -1]
        var found: [Range<Int>?] = [nil, nil]
        let cellCount = cells.scan(wanted: wanted, into: &found)
        guard cellCount == columns.count else {
            return (.bad("\(cellCount) cells, the header has \(columns.count)"), nil)
        }
        var step = Int64(rowIndex)
        if let range = found[1], !range.isEmpty {
            guard let parsed = cells.withCell(range, { JSONLineScanner.parseStep($0, 0..<$1) }) else {
                return (.bad("the step is not an integer"), nil)
            }
            step = parsed
        }
        guard let range = found[0], !range.isEmpty else { return (.noMetric, step) }
        guard let value = cells.withCell(range, { JSONLineScanner.parseDouble($0, 0..<$1) }) else {
            return (.missingValue, step)
        }
        return (.sample(MetricSample(step: step, value: value)), step)
    }
}
