/// Cuts console output into pieces at every `\n` and every `\r`, holding a partial last piece.
///
/// tqdm redraws its bar with `\r` and no newline, so that a whole training run's progress bar can arrive
/// as one "line" of megabytes (and Ray forwards a worker's bar exactly so); the text a person sees is what
/// follows the last `\r`. Cutting at `\r` as well keeps every piece short and puts a metrics line printed
/// after a bar clear (`\r   \r{'loss': ...}\n`) in a piece of its own. Line numbers count `\n` only.
struct ConsoleLineSplitter: Sendable {
    let maxPieceBytes: Int
    /// Lines completed so far (`\n` seen).
    private(set) var lineNumber = 0
    private var pending: [UInt8] = []
    var pendingByteCount: Int { pending.count }
    private var discarding = false

    init(maxPieceBytes: Int = 1 << 20) {
        self.maxPieceBytes = maxPieceBytes
    }

    enum Piece {
        /// A piece without its `\r` or `\n`; `line` is the 1-based number of the line it is on.
        case text(UnsafeBufferPointer<UInt8>, line: Int)
        case tooLong(line: Int)
    }

    mutating func split(_ chunk: UnsafeRawBufferPointer, _ body: (Piece) -> Void) {
        guard let start = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let end = start + chunk.count
        var pieceStart = start
        var cursor = start
        while cursor < end {
            let c = cursor.pointee
            guard c == 0x0A || c == 0x0D else {
                cursor += 1
                continue
            }
            if discarding {
                discarding = false
                body(.tooLong(line: lineNumber + 1))
            } else if pending.isEmpty {
                emit(pieceStart, cursor - pieceStart, body)
            } else {
                pending.append(contentsOf: UnsafeBufferPointer(start: pieceStart, count: cursor - pieceStart))
                pending.withUnsafeBufferPointer { emit($0.baseAddress!, $0.count, body) }
                pending.removeAll(keepingCapacity: true)
            }
            if c == 0x0A { lineNumber += 1 }
            cursor += 1
            pieceStart = cursor
        }
        let left = end - pieceStart
        guard left > 0, !discarding else { return }
        if pending.count + left > maxPieceBytes {
            pending.removeAll()
            discarding = true
        } else {
            pending.append(contentsOf: UnsafeBufferPointer(start: pieceStart, count: left))
        }
    }

    /// End of input: hands out a last piece that has no `\n` or `\r`.
    mutating func finish(_ body: (Piece) -> Void) {
        if discarding {
            body(.tooLong(line: lineNumber + 1))
        } else if !pending.isEmpty {
            pending.withUnsafeBufferPointer { emit($0.baseAddress!, $0.count, body) }
        }
        discardPartialPiece()
    }

    mutating func discardPartialPiece() {
        pending.removeAll()
        discarding = false
    }

    private func emit(_ bytes: UnsafePointer<UInt8>, _ count: Int, _ body: (Piece) -> Void) {
        if count > maxPieceBytes {
            body(.tooLong(line: lineNumber + 1))
        } else if count > 0 {
            body(.text(UnsafeBufferPointer(start: bytes, count: count), line: lineNumber + 1))
        }
    }
}
