import RunLogs

/// `kltop export --format jsonl --with-notes`, read back: the stream another machine's kltop sends over ssh.
///
/// One JSON object per line. A step is export's own line, `{"run": R, "step": S, "value": V}` (values
/// exact, non-finite as "nan", "inf", "-inf"), so the stream is export's JSON Lines with notes between.
/// A note has `"note"`:
/// - `run`: a run appeared, `{"note": "run", "run": R, "path": P}`;
/// - `renamed`: `{"note": "renamed", "run": R, "name": N}` (its log recorded its name);
/// - `read`: what reading the run found so far, after its steps of a round: `metric`, `records`,
///   `samples`, `missing`, `bad`, `ignored`, `unusable`, `repeated`, `finished`, `bytes`, `badLines`
///   (`[[line, reason], …]`, the first few), `keys` (keys seen where no KL was);
/// - `notice`: `{"note": "notice", "run": R or null, "kind": K, "path": P, "message": M}`;
/// - `withoutKL`: a log in a run folder that holds no KL, with `path` and the `read` fields;
/// - `ended`: `{"note": "ended", "run": R}`; `caughtUp`: what the logs held at the start has been sent.
/// Run names are unique in a stream; a rename applies to the lines after it. Unknown notes are skipped
/// (a newer kltop on the other side), a line that is not such an object is counted as bad.
public enum RemoteStream {
    public enum Line: Equatable, Sendable {
        case sample(run: String, MetricSample)
        case run(name: String, path: String)
        case renamed(run: String, name: String)
        case read(run: String, metricKey: String?, ReadStatistics)
        case notice(run: String?, Notice)
        case withoutKL(path: String, ReadStatistics)
        case ended(run: String)
        case caughtUp
        /// A note this kltop does not know.
        case unknown
    }

    public static func decode(_ text: Substring) -> Line? {
        var parser = WireJSON(text.utf8)
        guard case .object(let object)? = parser.parseDocument() else { return nil }
        if case .string(let note)? = object["note"] { return decodeNote(note, object) }
        guard case .string(let run)? = object["run"], case .integer(let step)? = object["step"],
            let value = number(object["value"])
        else { return nil }
        return .sample(run: run, MetricSample(step: step, value: value))
    }

    private static func decodeNote(_ note: String, _ object: [String: WireJSON.Value]) -> Line? {
        let run = string(object["run"])
        switch note {
        case "run":
            guard let run, let path = string(object["path"]) else { return nil }
            return .run(name: run, path: path)
        case "renamed":
            guard let run, let name = string(object["name"]) else { return nil }
            return .renamed(run: run, name: name)
        case "read":
            guard let run else { return nil }
            return .read(run: run, metricKey: string(object["metric"]), statistics(object))
        case "notice":
            guard let kind = string(object["kind"]).flatMap(Notice.Kind.init(wireName:)),
                let path = string(object["path"]), let message = string(object["message"])
            else { return nil }
            return .notice(run: run, Notice(kind, path: path, message))
        case "withoutKL":
            guard let path = string(object["path"]) else { return nil }
            return .withoutKL(path: path, statistics(object))
        case "ended":
            guard let run else { return nil }
            return .ended(run: run)
        case "caughtUp": return .caughtUp
        default: return .unknown
        }
    }

    private static func statistics(_ object: [String: WireJSON.Value]) -> ReadStatistics {
        var statistics = ReadStatistics()
        statistics.records = integer(object["records"])
        statistics.samples = integer(object["samples"])
        statistics.missingValues = integer(object["missing"])
        statistics.badLines = integer(object["bad"])
        statistics.ignoredLines = integer(object["ignored"])
        statistics.unusableSteps = integer(object["unusable"])
        statistics.repeatedSteps = integer(object["repeated"])
        statistics.bytes = integer(object["bytes"])
        if case .bool(true)? = object["finished"] { statistics.runFinished = true }
        if case .array(let lines)? = object["badLines"] {
            for entry in lines.prefix(ReadStatistics.keptBadLines) {
                guard case .array(let pair) = entry, pair.count == 2, case .integer(let line) = pair[0],
                    case .string(let reason) = pair[1]
                else { continue }
                statistics.firstBadLines.append(BadLine(lineNumber: Int(clamping: line), reason: reason))
            }
        }
        if case .array(let keys)? = object["keys"] {
            statistics.keysSeen = keys.prefix(64).compactMap {
                if case .string(let key) = $0 { key } else { nil }
            }
        }
        return statistics
    }

    private static func string(_ value: WireJSON.Value?) -> String? {
        if case .string(let text)? = value { text } else { nil }
    }

    private static func integer(_ value: WireJSON.Value?) -> Int {
        if case .integer(let number)? = value { Int(clamping: max(0, number)) } else { 0 }
    }

    private static func number(_ value: WireJSON.Value?) -> Double? {
        switch value {
        case .integer(let number)?: Double(number)
        case .double(let number)?: number
        case .string("nan")?: .nan
        case .string("inf")?: .infinity
        case .string("-inf")?: -.infinity
        default: nil
        }
    }
}

extension Notice.Kind {
    /// The kind's name in the remote stream: its case name, so that both sides spell it the same.
    public var wireName: String { String(describing: self) }

    init?(wireName: String) {
        guard let kind = Self.all.first(where: { $0.wireName == wireName }) else { return nil }
        self = kind
    }

    public static let all: [Notice.Kind] = [
        .waitingForFile, .waitingForWriter, .streamEnded, .permissionDenied, .notAFile, .cannotOpen,
        .cannotRead,
        .nothingToFollowYet, .following, .rotated, .replacedByContinuation, .truncated, .disconnected,
        .readThroughTail,
    ]
}

/// Just enough JSON for the remote stream: objects, arrays, strings, numbers, true, false, null; depth
/// bounded, so a hostile line cannot exhaust the stack.
struct WireJSON {
    enum Value: Equatable {
        case object([String: Value])
        case array([Value])
        case string(String)
        case integer(Int64)
        case double(Double)
        case bool(Bool)
        case null
    }

    private let bytes: [UInt8]
    private var index = 0
    private static let maximumDepth = 16

    init(_ text: Substring.UTF8View) { bytes = Array(text) }

    mutating func parseDocument() -> Value? {
        guard let value = parseValue(depth: 0) else { return nil }
        skipSpaces()
        return index == bytes.count ? value : nil
    }

    private mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0D {
            index += 1
        }
    }

    private mutating func parseValue(depth: Int) -> Value? {
        guard depth < Self.maximumDepth else { return nil }
        skipSpaces()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return parseObject(depth: depth)
        case UInt8(ascii: "["): return parseArray(depth: depth)
        case UInt8(ascii: "\""): return parseString().map(Value.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return parseNumber()
        }
    }

    private mutating func literal(_ word: String, _ value: Value) -> Value? {
        let word = Array(word.utf8)
        guard index + word.count <= bytes.count, bytes[index..<(index + word.count)].elementsEqual(word)
        else {
            return nil
        }
        index += word.count
        return value
    }

    private mutating func parseObject(depth: Int) -> Value? {
        index += 1
        var object: [String: Value] = [:]
        skipSpaces()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = parseString() else {
                return nil
            }
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            guard let value = parseValue(depth: depth + 1) else { return nil }
            object[key] = value
            skipSpaces()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            } else {
                return nil
            }
        }
    }

    private mutating func parseArray(depth: Int) -> Value? {
        index += 1
        var array: [Value] = []
        skipSpaces()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(array)
        }
        while true {
            guard let value = parseValue(depth: depth + 1) else { return nil }
            array.append(value)
            skipSpaces()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            } else {
                return nil
            }
        }
    }

    private mutating func parseString() -> String? {
        index += 1
        var scalars = String.UnicodeScalarView()
        var start = index
        var pending: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                pending += bytes[start..<index]
                index += 1
                scalars.append(contentsOf: String(decoding: pending, as: UTF8.self).unicodeScalars)
                return String(scalars)
            }
            if byte < 0x20 { return nil }
            if byte == UInt8(ascii: "\\") {
                pending += bytes[start..<index]
                scalars.append(contentsOf: String(decoding: pending, as: UTF8.self).unicodeScalars)
                pending.removeAll(keepingCapacity: true)
                index += 1
                guard index < bytes.count, let scalar = parseEscape() else { return nil }
                scalars.append(scalar)
                start = index
                continue
            }
            index += 1
        }
        return nil
    }

    /// After a backslash: one escape, `index` past it.
    private mutating func parseEscape() -> Unicode.Scalar? {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{8}"
        case UInt8(ascii: "f"): return "\u{C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            guard let unit = hex4() else { return nil }
            if (0xD800..<0xDC00).contains(unit) {
                // A surrogate pair; a lone half is replaced, not an error (export never writes one).
                if index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                {
                    index += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return "\u{FFFD}" }
                    return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                }
                return "\u{FFFD}"
            }
            return Unicode.Scalar(unit) ?? "\u{FFFD}"
        default: return nil
        }
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    private mutating func parseNumber() -> Value? {
        let start = index
        var isInteger = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") || byte == UInt8(ascii: "-") {
                index += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                || byte == UInt8(ascii: "+")
            {
                isInteger = false
                index += 1
            } else {
                break
            }
        }
        guard index > start else { return nil }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        // Swift's Double(String) is correctly rounded: the value export printed comes back bit for bit.
        return Double(text).map(Value.double)
    }
}
