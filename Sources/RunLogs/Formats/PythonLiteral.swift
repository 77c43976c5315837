/// Reads the Python literals training scripts print: `str(dict)` of metrics, and the values in them.
///
/// transformers 5 prints floats as quoted strings (`'kl': '0.023'`), 4.x as `repr` (`'kl': 0.023`,
/// `'grad_norm': nan`); numpy 2 scalars print as `np.float64(0.023)`; torch scalars as
/// `tensor(0.0230, device='cuda:0')`. All of these are numbers here. `None`, booleans, other strings and
/// containers are not.
enum PythonLiteral {
    /// Walks a dict literal that spans exactly `range` of `t`, calling `body` with each entry's key (inside
    /// its quotes, for a quoted key) and value. Returns what is wrong, or nil.
    static func forEachDictEntry(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Range<Int>, Range<Int>) -> Void
    ) -> String? {
        let n = range.upperBound
        var i = range.lowerBound
        guard i < n && t[i] == UInt8(ascii: "{") else { return "not a dict" }
        i += 1
        skipSpace(t, n, &i)
        if i < n && t[i] == UInt8(ascii: "}") { return i + 1 == n ? nil : "text after the dict" }
        while true {
            skipSpace(t, n, &i)
            guard i < n else { return "cut short" }
            let key: Range<Int>
            if isQuote(t[i]) {
                guard let end = stringEnd(t, n, i) else { return "cut short" }
                key = (i + 1)..<end
                i = end + 1
            } else {
                let start = i
                while i < n && t[i] != UInt8(ascii: ":") && !ConsoleText.isSpace(t[i]) { i += 1 }
                key = start..<i
            }
            skipSpace(t, n, &i)
            guard i < n && t[i] == UInt8(ascii: ":") else { return "expected ':' after a key" }
            i += 1
            let valueStart = i
            if let problem = skipValue(t, n, &i) { return problem }
            let value = ConsoleText.trimmed(t, valueStart..<i)
            guard !value.isEmpty, !key.isEmpty else { return "an entry without key or value" }
            body(key, value)
            guard i < n else { return "cut short" }
            if t[i] == UInt8(ascii: ",") {
                i += 1
                skipSpace(t, n, &i)
                if i < n && t[i] == UInt8(ascii: "}") { return i + 1 == n ? nil : "text after the dict" }
                continue
            }
            // skipValue stops only at a top-level ',' or '}'.
            return i + 1 == n ? nil : "text after the dict"
        }
    }

    /// The number a printed value stands for, or nil if it is not one.
    static func number(_ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
        guard let base = t.baseAddress, !range.isEmpty else { return nil }
        let first = t[range.lowerBound]
        if isQuote(first) {
            guard range.count >= 2, t[range.upperBound - 1] == first else { return nil }
            let inner = ConsoleText.trimmed(t, (range.lowerBound + 1)..<(range.upperBound - 1))
            return inner.isEmpty ? nil : JSONLineScanner.parseDouble(base, inner)
        }
        if t[range.upperBound - 1] == UInt8(ascii: ")"),
            let open = t[range].firstIndex(of: UInt8(ascii: "(")),
            open > range.lowerBound
        {
            let name = t[range.lowerBound..<open]
            guard name.allSatisfy({ isIdentifierByte($0) || $0 == UInt8(ascii: ".") }) else { return nil }
            var end = open + 1
            while end < range.upperBound - 1 && t[end] != UInt8(ascii: ",") { end += 1 }
            let argument = ConsoleText.trimmed(t, (open + 1)..<end)
            return argument.isEmpty ? nil : JSONLineScanner.parseDouble(base, argument)
        }
        return JSONLineScanner.parseDouble(base, range)
    }

    /// An integer step as printed: `12`, `'12'`, `12.0`, `np.int64(12)`.
    static func integer(_ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
        guard let value = number(t, range), value.isFinite, let integral = Int64(exactly: value) else {
            return nil
        }
        return integral
    }

    /// Skips a value up to the `,` or `}` that ends it at this level (not consumed).
    private static func skipValue(_ t: UnsafeBufferPointer<UInt8>, _ n: Int, _ i: inout Int) -> String? {
        var depth = 0
        while i < n {
            let c = t[i]
            if isQuote(c) {
                guard let end = stringEnd(t, n, i) else { return "cut short" }
                i = end + 1
                continue
            }
            switch c {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                if depth == 0 { return c == UInt8(ascii: "}") ? nil : "mismatched brackets" }
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 0 { return nil }
            default:
                break
            }
            i += 1
        }
        return "cut short"
    }

    /// The index of the quote closing the string that opens at `start`.
    private static func stringEnd(_ t: UnsafeBufferPointer<UInt8>, _ n: Int, _ start: Int) -> Int? {
        let quote = t[start]
        var j = start + 1
        while j < n {
            if t[j] == UInt8(ascii: "\\") {
                j += 2
            } else if t[j] == quote {
                return j
            } else {
                j += 1
            }
        }
        return nil
    }

    private static func skipSpace(_ t: UnsafeBufferPointer<UInt8>, _ n: Int, _ i: inout Int) {
        while i < n && ConsoleText.isSpace(t[i]) { i += 1 }
    }

    @inline(__always) static func isQuote(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "'") || c == UInt8(ascii: "\"")
    }

    @inline(__always) static func isIdentifierByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
            || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
    }
}
