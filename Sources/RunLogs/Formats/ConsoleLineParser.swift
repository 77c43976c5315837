/// Recognises the metrics lines RL trainers print among everything else on their console.
///
/// The rule that keeps decoys out: a line is a record only if the record makes up the WHOLE line, once
/// terminal escapes, Ray's `(Actor pid=N)` prefix and surrounding spaces are taken off (and, for OpenRLHF,
/// Python logging's header). A dict quoted inside a warning, an exception message, a traceback or a
/// tokenizer sample is part of a longer line, so it is never one. The shapes:
/// - transformers / TRL: the line is a dict literal, `{'loss': '0.0113', 'kl': '0.0021', 'epoch': '0.01'}`.
/// - veRL (`concat_dict_to_str`): `step:12 - actor/kl_loss:np.float64(0.0013) - ...`; the separator is
///   exactly `" - "`, and a key ends at the last `:` of its pair.
/// - OpenRLHF: `[LEVEL date time file:line] [✨ ]Global step 12: {...}`, the dict running to the line's end;
///   before `Global step` there is nothing, or a logging header ending in `] `.
enum ConsoleLineParser {
    enum Shape: Equatable {
        /// A record; its step if the line states one (veRL, OpenRLHF).
        case record(step: Int64?)
        /// Starts like a record but is not a well-formed one.
        case malformed(String)
        /// Anything else a training script prints.
        case notARecord
    }

    /// Classifies the text in `range` of `t`, calling `entry` with each key and value of a record (also for
    /// entries of a line later found malformed: use them only for `.record`).
    static func parse(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape {
        guard !range.isEmpty else { return .notARecord }
        if t[range.lowerBound] == UInt8(ascii: "{") {
            if let problem = PythonLiteral.forEachDictEntry(t, range, entry) { return .malformed(problem) }
            return .record(step: nil)
        }
        if starts(t, range, with: "step:") { return verl(t, range, entry) }
        if let global = find(t, range, "Global step ") { return openRLHF(t, range, at: global, entry) }
        return .notARecord
    }

    private static func verl(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape {
        let separator = Array(" - ".utf8)
        var pairs: [Range<Int>] = []
        var start = range.lowerBound
        var i = start
        while i + separator.count <= range.upperBound {
            if t[i] == separator[0] && t[i + 1] == separator[1] && t[i + 2] == separator[2] {
                pairs.append(start..<i)
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        pairs.append(start..<range.upperBound)
        let stepText = ConsoleText.trimmed(t, (range.lowerBound + 5)..<pairs[0].upperBound)
        guard !stepText.isEmpty,
            stepText.allSatisfy({ t[$0] >= UInt8(ascii: "0") && t[$0] <= UInt8(ascii: "9") }),
            let step = PythonLiteral.integer(t, stepText)
        else { return .notARecord }
        for pair in pairs.dropFirst() {
            guard let colon = t[pair].lastIndex(of: UInt8(ascii: ":")) else {
                return .malformed("a pair without ':'")
            }
            let key = ConsoleText.trimmed(t, pair.lowerBound..<colon)
            let value = ConsoleText.trimmed(t, (colon + 1)..<pair.upperBound)
            guard !key.isEmpty, !value.isEmpty else { return .malformed("a pair without key or value") }
            entry(key, value)
        }
        return .record(step: step)
    }

    private static func openRLHF(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, at global: Int,
        _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape {
        var prefixEnd = global
        let sparkles = Array("✨ ".utf8)
        if prefixEnd - range.lowerBound >= sparkles.count
            && t[(prefixEnd - sparkles.count)..<prefixEnd].elementsEqual(sparkles)
        {
            prefixEnd -= sparkles.count
        }
        let prefix = range.lowerBound..<prefixEnd
        guard
            prefix.isEmpty
                || (prefix.count >= 2 && t[prefixEnd - 2] == UInt8(ascii: "]") && t[prefixEnd - 1] == 0x20)
        else { return .notARecord }
        var i = global + "Global step ".utf8.count
        let digits = i
        while i < range.upperBound && t[i] >= UInt8(ascii: "0") && t[i] <= UInt8(ascii: "9") { i += 1 }
        guard i > digits, i < range.upperBound, t[i] == UInt8(ascii: ":"),
            let step = PythonLiteral.integer(t, digits..<i)
        else { return .notARecord }
        let dict = ConsoleText.trimmed(t, (i + 1)..<range.upperBound)
        guard !dict.isEmpty, t[dict.lowerBound] == UInt8(ascii: "{") else { return .notARecord }
        if let problem = PythonLiteral.forEachDictEntry(t, dict, entry) { return .malformed(problem) }
        return .record(step: step)
    }

    static func starts(_ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, with prefix: String) -> Bool {
        t[range].starts(with: prefix.utf8)
    }

    /// The index where `needle` first occurs in `range`.
    static func find(_ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ needle: String) -> Int? {
        let needle = Array(needle.utf8)
        var i = range.lowerBound
        while i + needle.count <= range.upperBound {
            if t[i] == needle[0] && t[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
