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
///
/// What Python's `json.loads` would refuse is a bad line: every bare value of the record (and of veRL's
/// `data`) must be a JSON number or `true`, `false`, `null`, `NaN`, `Infinity`, `-Infinity`, so `1.0e`, `01`
/// or `-` is malformed, not a missing value. Values nested deeper (a list, another object) are checked for
/// closed strings and paired brackets only, and strings for their closing quote only. A key written twice
/// is read as Python reads it: the last one wins. Keys are compared as written, so a key spelled with an
/// escape (`"k\u006c"`) is not `kl`.
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
    /// Samples whose step field held no whole number (`12.5`, `1e20`, `"abc"`, beyond 64 bits): their
    /// ordinal was used as the step, as for a record without one.
    public private(set) var unusableSteps = 0
    /// The first such step as written, for the note that reports them.
    public private(set) var firstUnusableStep: String?

    /// Candidate keys for the value: with a fixed key, one entry per nesting level it may appear at.
    private var valueKeys: [[UInt8]] {
        didSet {
            packedValueKeys = valueKeys.map(PackedKey.init)
            valueKeyFilter = KeyFilter(valueKeys)
        }
    }
    /// Rejects most keys that are none of ``valueKeys`` in one test, so that the long list of aliases costs
    /// little per key while the KL key is still to be chosen (and in a log that has none).
    private var valueKeyFilter = KeyFilter([])
    /// Whether ``valueKeys`` may still change (automatic selection before any alias was seen).
    private var isChoosing: Bool
    /// The candidate keys packed (``PackedKey``): every key of every record is compared with them, and
    /// reading an element of `[[UInt8]]` costs a retain and a release, which were a sixth of the time to
    /// read a log of short records.
    private var packedValueKeys: [PackedKey] = []
    private let packedStepKeys: [PackedKey] = MetricKeys.recordStepKeys.map { PackedKey(Array($0.utf8)) }
    private static let nestedKey = Array(MetricKeys.nestedMetricsKey.utf8)
    /// For a `data.`-prefixed `--metric`, the key only matches inside the nested object.
    private var fixedKeyNestedOnly = false

    public init(selection: MetricSelection) {
        self.selection = selection
        switch selection {
        case .automatic:
            valueKeys = MetricKeys.klAliases.map { Array($0.utf8) }
            packedValueKeys = valueKeys.map(PackedKey.init)
            valueKeyFilter = KeyFilter(valueKeys)
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
            packedValueKeys = valueKeys.map(PackedKey.init)
            valueKeyFilter = KeyFilter(valueKeys)
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
        if isChoosing, let key = found.normalisedKey,
            found.normalisedRank
                < (found.valueRange == nil ? Int.max : MetricKeys.automaticRank(aliasAt: found.valueRank))
        {
            chosenKey = String(decoding: key, as: UTF8.self)
            valueKeys = [Array(key)]
            isChoosing = false
            found.valueRange = found.normalisedRange
        }
        guard let valueRange = found.valueRange else { return .noMetric }
        if isChoosing {
            chosenKey = MetricKeys.klAliases[found.valueRank]
            valueKeys = [valueKeys[found.valueRank]]
            isChoosing = false
        }
        guard let value = Self.parseValue(p, valueRange) else { return .missingValue }
        guard let stepRange = found.stepRange else {
            return .sample(MetricSample(step: ordinal, value: value))
        }
        guard let step = Self.parseStep(p, stepRange) else {
            unusableSteps += 1
            if firstUnusableStep == nil { firstUnusableStep = Self.excerpt(p, stepRange) }
            return .sample(MetricSample(step: ordinal, value: value))
        }
        return .sample(MetricSample(step: step, value: value))
    }

    /// The keys of a well-formed record, veRL's nested ones as `data.KEY`: what a log holds, for the message
    /// that says the KL key is not among them.
    public static func keys(of line: UnsafeBufferPointer<UInt8>) -> [String] {
        guard let p = line.baseAddress else { return [] }
        var keys: [String] = []
        var i = 0
        skipSpace(p, line.count, &i)
        guard i < line.count && p[i] == UInt8(ascii: "{") else { return [] }
        collectKeys(p, line.count, &i, prefix: "", into: &keys)
        return keys
    }

    /// Collects the keys of the object at `i` (its `{`), leaving `i` past its `}`.
    private static func collectKeys(
        _ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int, prefix: String, into keys: inout [String]
    ) {
        i += 1
        while true {
            skipSpace(p, n, &i)
            guard i < n, p[i] == quote, let end = stringEnd(p, n, from: i + 1) else {
                if i < n && p[i] == UInt8(ascii: "}") { i += 1 }
                return
            }
            let key = String(
                decoding: UnsafeBufferPointer(start: p + i + 1, count: end - i - 1), as: UTF8.self)
            i = end + 1
            skipSpace(p, n, &i)
            guard i < n && p[i] == UInt8(ascii: ":") else { return }
            i += 1
            skipSpace(p, n, &i)
            guard i < n else { return }
            if prefix.isEmpty && key == MetricKeys.nestedMetricsKey && p[i] == UInt8(ascii: "{") {
                collectKeys(p, n, &i, prefix: key + ".", into: &keys)
            } else {
                keys.append(prefix + key)
                if skipValue(p, n, &i) != nil { return }
            }
            skipSpace(p, n, &i)
            guard i < n && p[i] == UInt8(ascii: ",") else {
                if i < n && p[i] == UInt8(ascii: "}") { i += 1 }
                return
            }
            i += 1
        }
    }

    /// Token ranges of the wanted values, found while walking the line.
    private struct Found {
        var valueRange: Range<Int>?
        var valueRank = Int.max
        var stepRange: Range<Int>?
        var stepRank = Int.max
        /// While choosing: the best key that is no alias but ranks as one once normalised
        /// (``MetricKeys/automaticRank(_:)``), its rank and its value.
        /// (The key's bytes in the line, not a string: a record's `Found` stays plain data, which the
        /// scanner's hot loop depends on.)
        var normalisedKey: UnsafeBufferPointer<UInt8>?
        var normalisedRank = Int.max
        var normalisedRange: Range<Int>?
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

    /// Remembers the value if its key is a KL or step key at least as good as any seen so far on this line:
    /// a better alias wins whatever the order, and of one key written twice the last wins, as in Python.
    @inline(__always)
    private func note(key: UnsafeBufferPointer<UInt8>, nested: Bool, value: Range<Int>, _ found: inout Found)
    {
        let shape = PackedKey.shape(key)
        // (The filter only while choosing: against one key the loop below is as cheap.)
        if !(fixedKeyNestedOnly && !nested) && (!isChoosing || valueKeyFilter.mayContain(key)) {
            for rank in 0..<(min(valueKeys.count - 1, found.valueRank) + 1)
            where packedValueKeys[rank].shape == shape
                && packedValueKeys[rank].matches(key, else: valueKeys[rank])
            {
                found.valueRank = rank
                found.valueRange = value
                return
            }
        }
        // A statistic or a prefixed spelling of a KL key (`actor/kl_loss/mean`): ranked by name, only while
        // choosing. (An alias passed over above is worse than one found, and ranks worse still here.)
        if isChoosing, let rank = MetricKeys.rank(ofNonAlias: UnsafeRawBufferPointer(key)),
            rank <= found.normalisedRank
        {
            found.normalisedRank = rank
            found.normalisedRange = value
            found.normalisedKey = key
            return
        }
        if !nested {
            for rank in 0..<(min(packedStepKeys.count - 1, found.stepRank) + 1)
            where packedStepKeys[rank].shape == shape && packedStepKeys[rank] == PackedKey(key) {
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
        // Numbers, nearly every value in a run log, are checked in the one pass that finds their end.
        if let end = numberEnd(p, n, from: i), end == n || isDelimiter(p[end]) {
            i = end
            return nil
        }
        while i < n && !isDelimiter(p[i]) { i += 1 }
        if i == start { return "expected a value" }
        if isLiteral(p, start, i) { return nil }
        let first = p[start]
        let looksNumeric =
            isDigit(first) || first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
            || first == UInt8(ascii: ".")
        return (looksNumeric ? "invalid number " : "not a JSON value: ") + excerpt(p, start..<i)
    }

    /// What ends a bare value: the next member or element, the end of its object or array, or space.
    @inline(__always) private static func isDelimiter(_ c: UInt8) -> Bool {
        c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c <= 0x20
    }

    @inline(__always) private static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") <= 9 }

    /// The end of the longest JSON number at `start` (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`), or nil
    /// when none starts there or it breaks off (`1.`, `1.0e`, `-`).
    @inline(__always)
    static func numberEnd(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Int? {
        var j = start
        if p[j] == UInt8(ascii: "-") { j += 1 }
        guard j < n && isDigit(p[j]) else { return nil }
        if p[j] == UInt8(ascii: "0") {
            j += 1
        } else {
            while j < n && isDigit(p[j]) { j += 1 }
        }
        if j < n && p[j] == UInt8(ascii: ".") {
            j += 1
            let fraction = j
            while j < n && isDigit(p[j]) { j += 1 }
            if j == fraction { return nil }
        }
        if j < n && p[j] | 0x20 == UInt8(ascii: "e") {
            j += 1
            if j < n && (p[j] == UInt8(ascii: "+") || p[j] == UInt8(ascii: "-")) { j += 1 }
            let exponent = j
            while j < n && isDigit(p[j]) { j += 1 }
            if j == exponent { return nil }
        }
        return j
    }

    private static let literals: [[UInt8]] = ["true", "false", "null", "NaN", "Infinity", "-Infinity"].map {
        Array($0.utf8)
    }

    /// `true`, `false`, `null`, and the non-finite spellings Python's json writes and reads.
    static func isLiteral(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let token = UnsafeBufferPointer(start: p + start, count: end - start)
        return literals.contains { equals(token, $0) }
    }

    /// A token as text for a message: at most 24 bytes of it.
    static func excerpt(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> String {
        let shown = UnsafeBufferPointer(start: p + range.lowerBound, count: min(range.count, 24))
        return String(decoding: shown, as: UTF8.self) + (range.count > 24 ? "…" : "")
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

/// A candidate key's first 32 bytes, length and first byte, held inline: every key of every record is
/// compared with the candidates, and most differ in length or first byte (``shape``), an integer compare;
/// the rest are compared in registers. Reading an element of `[[UInt8]]` instead costs a retain and a
/// release, which were a sixth of the time to read a log of short records.
/// A 256-bit set of key fingerprints (length, first and last byte): a key whose bit is clear is none of the
/// keys it was built from, found without comparing it with each of them.
struct KeyFilter {
    private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ keys: [[UInt8]]) {
        for key in keys {
            key.withUnsafeBufferPointer { key in
                let bit = Self.bit(key)
                switch bit >> 6 {
                case 0: bits.0 |= 1 << UInt64(bit & 63)
                case 1: bits.1 |= 1 << UInt64(bit & 63)
                case 2: bits.2 |= 1 << UInt64(bit & 63)
                default: bits.3 |= 1 << UInt64(bit & 63)
                }
            }
        }
    }

    @inline(__always)
    func mayContain(_ key: UnsafeBufferPointer<UInt8>) -> Bool { mayContain(bit: Self.bit(key)) }

    @inline(__always)
    func mayContain(_ key: UnsafeRawBufferPointer) -> Bool {
        mayContain(bit: Self.bit(count: key.count, first: key.first ?? 0, last: key.last ?? 0))
    }

    @inline(__always)
    private func mayContain(bit: Int) -> Bool {
        let word: UInt64
        switch bit >> 6 {
        case 0: word = bits.0
        case 1: word = bits.1
        case 2: word = bits.2
        default: word = bits.3
        }
        return word & (1 << UInt64(bit & 63)) != 0
    }

    @inline(__always)
    private static func bit(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        bit(count: key.count, first: key.first ?? 0, last: key.last ?? 0)
    }

    @inline(__always)
    private static func bit(count: Int, first: UInt8, last: UInt8) -> Int {
        let mixed =
            (UInt64(truncatingIfNeeded: count) << 16 | UInt64(first) << 8 | UInt64(last))
            &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> 56)
    }
}

struct PackedKey: Equatable {
    /// The first 32 bytes, little-endian, zero after the end. Built with shifts, not copied through
    /// memory: a vector load of bytes just stored stalls on store forwarding.
    private var words: (UInt64, UInt64, UInt64, UInt64)
    /// Length and first byte in one integer.
    private(set) var shape: Int

    @inline(__always)
    init(_ key: UnsafeBufferPointer<UInt8>) {
        shape = Self.shape(key)
        words = (Self.word(key, 0), Self.word(key, 1), Self.word(key, 2), Self.word(key, 3))
    }

    init(_ key: [UInt8]) { self = key.withUnsafeBufferPointer(PackedKey.init) }

    @inline(__always)
    static func shape(_ key: UnsafeBufferPointer<UInt8>) -> Int { key.count << 8 | Int(key.first ?? 0) }

    @inline(__always)
    private static func word(_ key: UnsafeBufferPointer<UInt8>, _ index: Int) -> UInt64 {
        let start = index &* 8
        var word: UInt64 = 0
        var position = start
        while position < key.count && position < start &+ 8 {
            word |= UInt64(key[position]) << UInt64((position &- start) &* 8)
            position &+= 1
        }
        return word
    }

    static func == (a: PackedKey, b: PackedKey) -> Bool {
        a.shape == b.shape && a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2
            && a.words.3 == b.words.3
    }

    /// Whether `key` is this one; a key longer than 32 bytes (a `--metric` key, never an alias) is
    /// compared in full with `whole`.
    @inline(__always)
    func matches(_ key: UnsafeBufferPointer<UInt8>, else whole: [UInt8]) -> Bool {
        guard key.count <= 32 else {
            return whole.withUnsafeBufferPointer { memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }
        }
        return self == PackedKey(key)
    }
}
