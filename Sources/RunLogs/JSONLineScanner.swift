import CNumbers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads one JSON Lines record for its step and KL value without building a dictionary.
///
/// Decoding every line into a dictionary costs far more than the two numbers kltop needs, so this walks
/// the line's structure once: keys are compared as bytes against the few that matter, every other value is
/// skipped (strings with a `memchr`), and only the two wanted tokens are turned into numbers, after the
/// whole line has proved well-formed. A line cut short, two records run together, or binary garbage fails
/// the walk and is reported as bad; it never yields a half-read sample.
///
/// Accepted beyond strict JSON, because Python's json module writes them: `NaN`, `Infinity`, `-Infinity`.
/// Numbers written as strings (`"0.0113"`, as recent transformers print them) count as numbers.
public struct JSONLineScanner: Sendable {
    public enum Outcome: Equatable, Sendable {
        /// A record with its step and a numeric KL value.
        case sample(MetricSample)
        /// A record whose KL key is null or not a number.
        case missingValue
        /// A record without the KL key.
        case noMetric
        /// A line that is not a well-formed record.
        case bad(String)
        /// A line holding nothing but whitespace.
        case blank
    }

    public let selection: MetricSelection
    /// The key the KL series is read from: the `--metric` key, or the first alias found in the log.
    public private(set) var chosenKey: String?
    /// Records seen so far; a record without a step field gets this (0-based) as its step. A reader whose
    /// file is rewritten whole sets it back to 0 for each new copy (``TrainerStateReader``).
    public internal(set) var recordCount: Int64 = 0

    /// Candidate keys for the value: with a fixed key, one entry per nesting level it may appear at.
    private var valueKeys: [[UInt8]]
    /// Whether ``valueKeys`` may still change (automatic selection before any alias was seen).
    private var isChoosing: Bool
    private let stepKeys: [[UInt8]] = MetricKeys.stepKeys.map { Array($0.utf8) }
    private static let nestedKey = Array(MetricKeys.nestedMetricsKey.utf8)
    /// For a `data.`-prefixed `--metric`, the key only matches inside the nested object.
    private var fixedKeyNestedOnly = false

    public init(selection: MetricSelection) {
        self.selection = selection
        switch selection {
        case .automatic:
            valueKeys = MetricKeys.klAliases.map { Array($0.utf8) }
            isChoosing = true
        case .key(let key):
            chosenKey = key
            isChoosing = false
            let prefix = MetricKeys.nestedMetricsKey + "."
            if key.hasPrefix(prefix) && key.count > prefix.count {
                valueKeys = [Array(key.dropFirst(prefix.count).utf8)]
                fixedKeyNestedOnly = true
            } else {
                valueKeys = [Array(key.utf8)]
            }
        }
    }

    /// Scans one line (without its newline).
    public mutating func scan(_ line: UnsafeBufferPointer<UInt8>) -> Outcome {
        guard let p = line.baseAddress else { return .blank }
        var n = line.count
        while n > 0 && Self.isSpace(p[n - 1]) { n -= 1 }
        var i = 0
        Self.skipSpace(p, n, &i)
        // A byte-order mark before the record: Windows tools write one at the start of a file (and `cat`
        // puts it at the start of a line); format detection already looks past it, so the reader must too.
        if n - i >= 3 && p[i] == 0xEF && p[i + 1] == 0xBB && p[i + 2] == 0xBF {
            i += 3
            Self.skipSpace(p, n, &i)
        }
        if i == n { return .blank }
        guard p[i] == UInt8(ascii: "{") else { return .bad("not a JSON object") }
        var found = Found()
        if let problem = scanObject(p, n, &i, nested: false, &found) { return .bad(problem) }
        if i != n { return .bad("unexpected text after the record") }

        let ordinal = recordCount
        recordCount += 1
        guard let valueRange = found.valueRange else { return .noMetric }
        if isChoosing {
            chosenKey = MetricKeys.klAliases[found.valueRank]
            valueKeys = [valueKeys[found.valueRank]]
            isChoosing = false
        }
        let step = found.stepRange.flatMap { Self.parseStep(p, $0) } ?? ordinal
        guard let value = Self.parseValue(p, valueRange) else { return .missingValue }
        return .sample(MetricSample(step: step, value: value))
    }

    /// Token ranges of the wanted values, found while walking the line.
    private struct Found {
        var valueRange: Range<Int>?
        var valueRank = Int.max
        var stepRange: Range<Int>?
        var stepRank = Int.max
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A
    }

    @inline(__always) static func skipSpace(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) {
        while i < n && isSpace(p[i]) { i += 1 }
    }

    /// Walks an object starting at `{`; returns a problem, or nil with `i` just past the closing `}`.
    private func scanObject(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, nested: Bool, _ found: inout Found
    ) -> String? {
        i += 1
        Self.skipSpace(p, n, &i)
        if i < n && p[i] == UInt8(ascii: "}") {
            i += 1
            return nil
        }
        while true {
            guard i < n else { return "cut short" }
            guard p[i] == Self.quote else { return "expected a key" }
            let keyStart = i + 1
            guard let keyEnd = Self.stringEnd(p, n, from: keyStart) else { return "cut short" }
            i = keyEnd + 1
            Self.skipSpace(p, n, &i)
            guard i < n else { return "cut short" }
            guard p[i] == UInt8(ascii: ":") else { return "expected ':' after a key" }
            i += 1
            Self.skipSpace(p, n, &i)
            guard i < n else { return "cut short" }
            let key = UnsafeBufferPointer(start: p + keyStart, count: keyEnd - keyStart)
            if !nested && p[i] == UInt8(ascii: "{") && Self.equals(key, Self.nestedKey) {
                if let problem = scanObject(p, n, &i, nested: true, &found) { return problem }
            } else {
                let valueStart = i
                if let problem = Self.skipValue(p, n, &i) { return problem }
                note(key: key, nested: nested, value: valueStart..<i, &found)
            }
            Self.skipSpace(p, n, &i)
            guard i < n else { return "cut short" }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                Self.skipSpace(p, n, &i)
                continue
            }
            if p[i] == UInt8(ascii: "}") {
                i += 1
                return nil
            }
            return "expected ',' or '}'"
        }
    }

    /// Remembers the value if its key is a better KL or step key than any seen so far on this line.
    @inline(__always)
    private func note(key: UnsafeBufferPointer<UInt8>, nested: Bool, value: Range<Int>, _ found: inout Found)
    {
        if found.valueRank > 0 && !(fixedKeyNestedOnly && !nested) {
            for rank in 0..<min(valueKeys.count, found.valueRank) where Self.equals(key, valueKeys[rank]) {
                found.valueRank = rank
                found.valueRange = value
                return
            }
        }
        if found.stepRank > 0 && !nested {
            for rank in 0..<min(stepKeys.count, found.stepRank) where Self.equals(key, stepKeys[rank]) {
                found.stepRank = rank
                found.stepRange = value
                return
            }
        }
    }

    @inline(__always) private static func equals(_ key: UnsafeBufferPointer<UInt8>, _ wanted: [UInt8]) -> Bool
    {
        key.count == wanted.count
            && wanted.withUnsafeBufferPointer { memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }
    }

    /// Index of the quote closing a string whose contents start at `start`, or nil if the line ends first.
    static func stringEnd(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int? {
        var from = start
        while from < n {
            guard let hit = memchr(p + from, Int32(quote), n - from) else { return nil }
            let index = p.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            while index - backslashes - 1 >= start && p[index - backslashes - 1] == backslash {
                backslashes += 1
            }
            if backslashes % 2 == 0 { return index }
            from = index + 1
        }
        return nil
    }

    /// Skips one value of any kind; returns a problem, or nil with `i` just past the value.
    static func skipValue(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> String? {
        let c = p[i]
        if c == quote {
            guard let end = stringEnd(p, n, from: i + 1) else { return "cut short" }
            i = end + 1
            return nil
        }
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { return skipCompound(p, n, &i) }
        let start = i
        while i < n {
            let d = p[i]
            if d == UInt8(ascii: ",") || d == UInt8(ascii: "}") || d == UInt8(ascii: "]") || d <= 0x20 {
                break
            }
            guard isTokenByte(d) else { return "not JSON (unexpected byte \(d))" }
            i += 1
        }
        if i == start { return "expected a value" }
        return nil
    }

    @inline(__always) private static func isTokenByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
            || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "-")
            || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
    }

    /// Skips a nested object or array, checking that brackets pair up (to 64 levels; deeper is refused).
    private static func skipCompound(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> String? {
        var depth = 0
        var openers: UInt64 = 0  // bit per level: 1 for an object, 0 for an array
        while i < n {
            let c = p[i]
            if c == quote {
                guard let end = stringEnd(p, n, from: i + 1) else { return "cut short" }
                i = end + 1
                continue
            }
            if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                if depth == 64 { return "nested too deeply" }
                openers = (openers << 1) | (c == UInt8(ascii: "{") ? 1 : 0)
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                let isObject = openers & 1 == 1
                if isObject != (c == UInt8(ascii: "}")) { return "mismatched brackets" }
                openers >>= 1
                depth -= 1
                if depth == 0 {
                    i += 1
                    return nil
                }
            } else if c >= 0x80 || (c < 0x20 && !isSpace(c)) {
                return "not JSON (unexpected byte \(c))"
            }
            i += 1
        }
        return "cut short"
    }

    /// The step as an integer: a JSON integer, an integral float (`12.0`) or a string holding one.
    static func parseStep(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Int64? {
        var range = range
        if p[range.lowerBound] == quote {
            // A string: its contents. A CSV cell can be a lone quote, which is no step (taking it for a
            // string made an inverted range, and crashed).
            guard range.count >= 2, p[range.upperBound - 1] == quote else { return nil }
            range = (range.lowerBound + 1)..<(range.upperBound - 1)
        }
        guard !range.isEmpty else { return nil }
        var i = range.lowerBound
        let negative = p[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < range.upperBound else { return nil }
        var magnitude: Int64 = 0
        var allDigits = true
        for j in i..<range.upperBound {
            let d = p[j] &- UInt8(ascii: "0")
            if d > 9 {
                allDigits = false
                break
            }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            magnitude = sum
        }
        if allDigits { return negative ? -magnitude : magnitude }
        guard let number = parseDouble(p, range), number.isFinite, let integral = Int64(exactly: number)
        else {
            return nil
        }
        return integral
    }

    /// The KL value: a number, `NaN`/`Infinity`/`-Infinity`, or a string holding a number. Nil for null,
    /// booleans, objects and other strings.
    static func parseValue(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Double? {
        let first = p[range.lowerBound]
        if first == quote {
            var inner = (range.lowerBound + 1)..<(range.upperBound - 1)
            while !inner.isEmpty && isSpace(p[inner.lowerBound]) {
                inner = (inner.lowerBound + 1)..<inner.upperBound
            }
            while !inner.isEmpty && isSpace(p[inner.upperBound - 1]) {
                inner = inner.lowerBound..<(inner.upperBound - 1)
            }
            return inner.isEmpty ? nil : parseDouble(p, inner)
        }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") { return nil }
        return parseDouble(p, range)
    }

    /// Parses a decimal number or a non-finite spelling (NaN, Infinity, inf, nan; any case, signed) exactly
    /// as C's strtod rounds it; refuses hexadecimal and anything with trailing characters.
    ///
    /// Every reader's numbers come through here. Most are decided by ``DecimalToDouble`` without strtod;
    /// the rest go to ``parseDoubleWithStrtod(_:_:)``, which defines what is accepted.
    static func parseDouble(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Double? {
        let count = range.count
        guard count > 0 && count < 512 else { return nil }
        switch DecimalToDouble.parse(p, from: range.lowerBound, to: range.upperBound) {
        case .value(let value): return value
        case .refused: return nil
        case .undecided: return parseDoubleWithStrtod(p, range)
        }
    }

    /// ``parseDouble(_:_:)`` by C's strtod alone (in the C locale): the reference the fast path must match,
    /// and the path for whatever it leaves undecided.
    static func parseDoubleWithStrtod(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Double? {
        let count = range.count
        guard count > 0 && count < 512 else { return nil }
        for j in range {
            let c = p[j]
            if c == UInt8(ascii: "x") || c == UInt8(ascii: "X") || c == UInt8(ascii: "(") { return nil }
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
            let base = buffer.baseAddress!
            UnsafeMutableRawPointer(base).copyMemory(from: p + range.lowerBound, byteCount: count)
            base[count] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = kltop_strtod_c(base, &end)
            guard let end, end == base + count, !isSpace(UInt8(bitPattern: base[0])) else { return nil }
            return value
        }
    }
}
