/// Cuts CSV bytes into records, holding a partial last record until its end arrives.
///
/// Like ``LineSplitter``, except that a newline inside a quoted cell does not end the record (Python's csv
/// module quotes a cell holding a newline, and stable-baselines3 quotes every string). Quotes are tracked by
/// parity: `""` inside a quoted cell toggles twice. A record longer than `maxRecordBytes` (an unbalanced
/// quote in garbage would otherwise swallow the rest of the file) is reported and skipped to the next
/// newline, where quote tracking starts afresh.
struct CSVRecordSplitter: Sendable {
    let maxRecordBytes: Int
    /// Physical lines completed so far.
    private(set) var lineNumber = 0
    private var pending: [UInt8] = []
    private var insideQuotes = false
    private var recordHasQuotes = false
    /// Inside a record already found too long: drop bytes until the next newline.
    private var discarding = false

    init(maxRecordBytes: Int = 1 << 20) {
        self.maxRecordBytes = maxRecordBytes
    }

    var hasPartialRecord: Bool { !pending.isEmpty || discarding }
    var pendingByteCount: Int { pending.count }

    enum Piece {
        /// A record without its final newline or `\r\n`; `line` is the number of its first line.
        case record(UnsafeBufferPointer<UInt8>, line: Int, hasQuotes: Bool)
        case tooLong(line: Int)
    }

    mutating func split(_ chunk: UnsafeRawBufferPointer, _ body: (Piece) -> Void) {
        guard let start = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let end = start + chunk.count
        var cursor = start
        var recordStart = start
        while cursor < end {
            guard let newline = memchrByte(cursor, UInt8(ascii: "\n"), end - cursor) else {
                if !discarding { noteQuotes(cursor, end) }
                hold(recordStart, end - recordStart, body)
                return
            }
            lineNumber += 1
            if discarding {
                discarding = false
                insideQuotes = false
                recordHasQuotes = false
                pending.removeAll()
                body(.tooLong(line: lineNumber))
                cursor = newline + 1
                recordStart = cursor
                continue
            }
            noteQuotes(cursor, newline)
            let length = pending.count + (newline - recordStart)
            if insideQuotes && length <= maxRecordBytes {
                cursor = newline + 1  // a newline inside a quoted cell: the record goes on
                continue
            }
            if length > maxRecordBytes {
                body(.tooLong(line: lineNumber))
                insideQuotes = false
            } else if pending.isEmpty {
                emit(recordStart, newline - recordStart, body)
            } else {
                pending.append(
                    contentsOf: UnsafeBufferPointer(start: recordStart, count: newline - recordStart))
                pending.withUnsafeBufferPointer { emit($0.baseAddress!, $0.count, body) }
            }
            pending.removeAll(keepingCapacity: pending.capacity <= 64 * 1024)
            recordHasQuotes = false
            cursor = newline + 1
            recordStart = cursor
        }
        // The chunk ended just after a newline inside a quoted cell: the record goes on in the next chunk,
        // so what it has so far is held (it used to be dropped, cutting the record in two).
        hold(recordStart, end - recordStart, body)
    }

    /// End of input: hands out a last record that has no newline.
    mutating func finish(_ body: (Piece) -> Void) {
        guard hasPartialRecord else { return }
        lineNumber += 1
        if discarding {
            body(.tooLong(line: lineNumber))
        } else {
            pending.withUnsafeBufferPointer { emit($0.baseAddress!, $0.count, body) }
        }
        discardPartialRecord()
    }

    /// Forgets a held partial record: the file it came from was truncated or replaced.
    mutating func discardPartialRecord() {
        pending.removeAll()
        discarding = false
        insideQuotes = false
        recordHasQuotes = false
    }

    /// Toggles the quote state for every `"` in the bytes.
    private mutating func noteQuotes(_ from: UnsafePointer<UInt8>, _ to: UnsafePointer<UInt8>) {
        var cursor = from
        while cursor < to, let quote = memchrByte(cursor, UInt8(ascii: "\""), to - cursor) {
            insideQuotes.toggle()
            recordHasQuotes = true
            cursor = quote + 1
        }
    }

    private mutating func hold(_ bytes: UnsafePointer<UInt8>, _ count: Int, _ body: (Piece) -> Void) {
        if discarding || count == 0 { return }
        if pending.count + count > maxRecordBytes {
            pending.removeAll()
            discarding = true
            return
        }
        pending.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
    }

    /// The first line of the record being emitted: its last line, less the newlines inside it.
    private func emit(_ bytes: UnsafePointer<UInt8>, _ count: Int, _ body: (Piece) -> Void) {
        var length = count
        if length > 0 && bytes[length - 1] == UInt8(ascii: "\r") { length -= 1 }
        var innerNewlines = 0
        if recordHasQuotes {
            var cursor = bytes
            while let newline = memchrByte(cursor, UInt8(ascii: "\n"), bytes + length - cursor) {
                innerNewlines += 1
                cursor = newline + 1
            }
        }
        body(
            .record(
                UnsafeBufferPointer(start: bytes, count: length), line: lineNumber - innerNewlines,
                hasQuotes: recordHasQuotes))
    }
}
