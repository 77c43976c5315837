/// The cells of one CSV record, found without copying them.
///
/// Only the few wanted cells are located (their contents, inside quotes if quoted, trimmed of spaces); the
/// others are only counted. Records without any quote, nearly all of them, take a fast path that jumps from
/// comma to comma.
struct CSVCells {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let hasQuotes: Bool

    init(_ bytes: UnsafeBufferPointer<UInt8>, hasQuotes: Bool) {
        self.bytes = bytes
        self.hasQuotes = hasQuotes
    }

    /// Nothing but spaces: not a record.
    var isBlank: Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }

    /// Counts the cells; the contents of cell `wanted[k]` go to `found[k]`.
    func scan(wanted: [Int], into found: inout [Range<Int>?]) -> Int {
        forEachCell { cell, content in
            if let slot = wanted.firstIndex(of: cell) { found[slot] = content }
        }
    }

    /// Calls `body` with each cell's number and trimmed contents; returns the number of cells.
    @inline(__always)
    private func forEachCell(_ body: (Int, Range<Int>) -> Void) -> Int {
        guard let p = bytes.baseAddress else {
            body(0, 0..<0)
            return 1
        }
        let n = bytes.count
        var i = 0
        var cell = 0
        while true {
            var content: Range<Int>
            if hasQuotes && i < n && p[i] == UInt8(ascii: "\"") {
                content = Self.quotedCell(p, n, &i)
            } else {
                let comma = memchrByte(p + i, UInt8(ascii: ","), n - i).map { p.distance(to: $0) } ?? n
                content = i..<comma
                i = comma
            }
            body(cell, Self.trimmed(p, content))
            cell += 1
            if i >= n { return cell }
            i += 1  // the comma
        }
    }

    /// A quoted cell starting at `i`: its contents between the quotes, with `i` left at the comma after it.
    /// Text between the closing quote and the comma is tolerated, as Python's csv module tolerates it.
    private static func quotedCell(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> Range<Int> {
        let start = i + 1
        var j = start
        var end = n
        while j < n, let quote = memchrByte(p + j, UInt8(ascii: "\""), n - j) {
            let at = p.distance(to: quote)
            if at + 1 < n && p[at + 1] == UInt8(ascii: "\"") {
                j = at + 2
                continue
            }
            end = at
            break
        }
        i = min(end + 1, n)
        while i < n && p[i] != UInt8(ascii: ",") { i += 1 }
        return start..<end
    }

    private static func trimmed(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && (p[lower] == 0x20 || p[lower] == 0x09) { lower += 1 }
        while upper > lower && (p[upper - 1] == 0x20 || p[upper - 1] == 0x09) { upper -= 1 }
        return lower..<upper
    }

    /// Hands the bytes of a cell found by ``scan(wanted:into:)`` to `body`.
    func withCell<T>(_ range: Range<Int>, _ body: (UnsafePointer<UInt8>, Int) -> T) -> T {
        body(bytes.baseAddress! + range.lowerBound, range.count)
    }

    /// Every cell as text, unquoted (`""` read as `"`), trimmed: the header's column names.
    func strings() -> [String] {
        var names: [String] = []
        _ = forEachCell { cell, content in
            var text = Array(bytes[content])
            if hasQuotes {
                var unescaped: [UInt8] = []
                var previousWasQuote = false
                for byte in text {
                    if byte == UInt8(ascii: "\"") && previousWasQuote {
                        previousWasQuote = false
                        continue
                    }
                    previousWasQuote = byte == UInt8(ascii: "\"")
                    unescaped.append(byte)
                }
                text = unescaped
            }
            names.append(String(decoding: text, as: UTF8.self))
        }
        return names
    }
}
