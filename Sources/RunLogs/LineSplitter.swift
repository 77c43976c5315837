#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Cuts a byte stream into lines, holding a partial last line until its newline arrives.
///
/// A writer appends a record in pieces; a reader that parsed whatever was there would read half a number.
/// Lines longer than `maxLineBytes` are reported and skipped to their newline without being buffered, so
/// a runaway writer cannot make memory grow.
public struct LineSplitter: Sendable {
    public let maxLineBytes: Int
    /// Lines completed so far (the 1-based number of the last line handed out).
    public private(set) var lineNumber = 0
    private var pending: [UInt8] = []
    /// Inside a line already found too long: drop bytes until its newline.
    private var discarding = false
    /// The held line was taken without its newline (``takePartialLine()``); whitespace that completes it
    /// later is not a new line.
    private var afterTakenLine = false

    public init(maxLineBytes: Int = 1 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes of an unfinished last line held back.
    public var pendingByteCount: Int { pending.count }
    public var hasPartialLine: Bool { !pending.isEmpty || discarding }

    public enum Piece {
        case line(UnsafeBufferPointer<UInt8>, number: Int)
        case tooLong(number: Int)
    }

    /// Hands every complete line in `chunk` (with earlier held bytes) to `body`, newline and a trailing `\r`
    /// removed.
    public mutating func split(_ chunk: UnsafeRawBufferPointer, _ body: (Piece) -> Void) {
        guard let start = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let end = start + chunk.count
        var cursor = start
        while cursor < end {
            guard let newline = memchrByte(cursor, UInt8(ascii: "\n"), end - cursor) else {
                hold(cursor, end - cursor, body)
                return
            }
            if afterTakenLine {
                afterTakenLine = false
                if isBlank(pending) && isBlank(UnsafeBufferPointer(start: cursor, count: newline - cursor)) {
                    pending.removeAll(keepingCapacity: true)
                    cursor = newline + 1
                    continue
                }
            }
            lineNumber += 1
            if discarding {
                discarding = false
                body(.tooLong(number: lineNumber))
            } else if pending.isEmpty {
                emit(cursor, newline - cursor, body)
            } else {
                pending.append(contentsOf: UnsafeBufferPointer(start: cursor, count: newline - cursor))
                if pending.count > maxLineBytes {
                    body(.tooLong(number: lineNumber))
                } else {
                    pending.withUnsafeBufferPointer { emit($0.baseAddress!, $0.count, body) }
                }
                pending.removeAll(keepingCapacity: pending.capacity <= 64 * 1024)
            }
            cursor = newline + 1
        }
    }

    /// End of input: hands out a last line that has no newline. Used when the writer has clearly finished
    /// (a file read to its end by `check`, a closed pipe, a long quiet period).
    public mutating func finish(_ body: (Piece) -> Void) {
        guard hasPartialLine else { return }
        lineNumber += 1
        if discarding {
            discarding = false
            body(.tooLong(number: lineNumber))
        } else {
            pending.withUnsafeBufferPointer { emit($0.baseAddress!, $0.count, body) }
        }
        pending.removeAll()
    }

    /// Forgets a held partial line: the file it came from was truncated or replaced.
    public mutating func discardPartialLine() {
        pending.removeAll()
        discarding = false
        afterTakenLine = false
    }

    /// Lets `body` look at the held partial line (nil when there is none, or it is being skipped as too long).
    public func withPartialLine<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        guard !pending.isEmpty, !discarding else { return nil }
        return pending.withUnsafeBufferPointer(body)
    }

    /// Counts the held partial line as a line of its own, as if its newline had arrived; a newline (and
    /// whitespace) arriving later only completes it.
    public mutating func takePartialLine() {
        guard !pending.isEmpty, !discarding else { return }
        lineNumber += 1
        pending.removeAll(keepingCapacity: true)
        afterTakenLine = true
    }

    private func isBlank<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private mutating func hold(_ bytes: UnsafePointer<UInt8>, _ count: Int, _ body: (Piece) -> Void) {
        if discarding { return }
        if pending.count + count > maxLineBytes {
            pending.removeAll()
            discarding = true
            return
        }
        pending.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
    }

    private func emit(_ bytes: UnsafePointer<UInt8>, _ count: Int, _ body: (Piece) -> Void) {
        if count > maxLineBytes {
            body(.tooLong(number: lineNumber))
            return
        }
        var length = count
        if length > 0 && bytes[length - 1] == UInt8(ascii: "\r") { length -= 1 }
        body(.line(UnsafeBufferPointer(start: bytes, count: length), number: lineNumber))
    }
}

@inline(__always)
func memchrByte(_ p: UnsafePointer<UInt8>, _ byte: UInt8, _ count: Int) -> UnsafePointer<UInt8>? {
    guard let hit = memchr(p, Int32(byte), count) else { return nil }
    return UnsafePointer(hit.assumingMemoryBound(to: UInt8.self))
}
