/// Takes off what terminals and Ray add around a line a training script printed, so that the line can be
/// recognised by what the script itself wrote.
enum ConsoleText {
    /// Removes ANSI escape sequences (colours, cursor moves: `ESC [ ... final`, `ESC ] ... BEL`, and
    /// two-byte escapes), appending the rest to `output`.
    static func stripEscapes(_ text: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        var i = 0
        let n = text.count
        while i < n {
            let c = text[i]
            guard c == 0x1B else {
                output.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < n else { break }
            switch text[i] {
            case UInt8(ascii: "["):
                i += 1
                while i < n && !(0x40...0x7E).contains(text[i]) { i += 1 }
                i += 1
            case UInt8(ascii: "]"):
                i += 1
                while i < n && text[i] != 0x07
                    && !(text[i] == 0x1B && i + 1 < n && text[i + 1] == UInt8(ascii: "\\"))
                {
                    i += 1
                }
                i += i < n && text[i] == 0x1B ? 2 : 1
            default:
                i += 1
            }
        }
    }

    /// The range of `text` left once spaces, Ray's worker prefix (`(TaskRunner pid=123, ip=10.0.0.7) `)
    /// and its deduplication suffix (` [repeated 7x across cluster]`) are taken off.
    static func content(of text: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var range = trimmed(text, 0..<text.count)
        if let prefixEnd = rayPrefixEnd(text, range) { range = trimmed(text, prefixEnd..<range.upperBound) }
        let suffix = " across cluster]".utf8
        if range.count > suffix.count
            && text[(range.upperBound - suffix.count)..<range.upperBound].elementsEqual(suffix),
            let open = text[range].lastIndex(of: UInt8(ascii: "[")),
            text[open..<range.upperBound].starts(with: "[repeated ".utf8)
        {
            range = trimmed(text, range.lowerBound..<open)
        }
        return range
    }

    /// Ray's prefix, `(...)` at the start naming a process (empty for none), and whether the line's own
    /// text, after the prefix and the one space Ray puts after it, starts with spaces.
    static func source(of text: UnsafeBufferPointer<UInt8>) -> (
        prefix: Slice<UnsafeBufferPointer<UInt8>>, indented: Bool
    ) {
        let start = trimmed(text, 0..<text.count).lowerBound
        guard let end = rayPrefixEnd(text, start..<text.count) else {
            return (text[0..<0], start > 0)
        }
        var own = end
        if own < text.count && text[own] == 0x20 { own += 1 }
        return (text[start..<end], own < text.count && isSpace(text[own]))
    }

    /// Past `(...) ` at the start, when what is inside names a process (`pid=`), as Ray's prefix does.
    private static func rayPrefixEnd(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, text[range.lowerBound] == UInt8(ascii: "("),
            let close = text[range].firstIndex(of: UInt8(ascii: ")"))
        else { return nil }
        let inside = text[(range.lowerBound + 1)..<close]
        guard contains(inside, "pid=") else { return nil }
        return close + 1
    }

    static func contains(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard let first = needle.first, bytes.count >= needle.count else { return false }
        var i = bytes.startIndex
        while i + needle.count <= bytes.endIndex {
            if bytes[i] == first && bytes[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    static func trimmed(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && isSpace(text[lower]) { lower += 1 }
        while upper > lower && isSpace(text[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C
    }
}
