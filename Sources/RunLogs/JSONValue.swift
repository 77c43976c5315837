/// A JSON value (RFC 8259), parsed whole: what kltop reads where speed per byte does not matter — the
/// remote stream's notes, a webhook template made with its fields — unlike run logs, which
/// ``JSONLineScanner`` scans for one key without building anything.
///
/// Strict: no trailing commas, no byte order mark, no `NaN`, numbers as the grammar writes them, escapes
/// as it lists them; containers nested at most `maximumDepth` deep, so that hostile text cannot exhaust the
/// stack.
public enum JSONValue: Equatable, Sendable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    /// A number without fraction or exponent that fits 64 bits.
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case null

    /// What a `\u` escape of half a UTF-16 surrogate pair, alone, becomes.
    public enum LoneSurrogates: Sendable {
        /// The text is not JSON (what a JSON receiver may insist on).
        case refused
        /// U+FFFD, the rest kept (kltop's own writer never makes one; a name is still worth showing).
        case replaced
    }

    /// The one value `bytes` hold, surrounded by nothing but white space; nil when they are not JSON.
    public static func parse(
        _ bytes: some Collection<UInt8>, maximumDepth: Int = 512, loneSurrogates: LoneSurrogates = .refused
    ) -> JSONValue? {
        var parser = Parser(bytes: Array(bytes), maximumDepth: maximumDepth, loneSurrogates: loneSurrogates)
        parser.skipSpace()
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.index == parser.bytes.count ? value : nil
    }

    private struct Parser {
        let bytes: [UInt8]
        let maximumDepth: Int
        let loneSurrogates: LoneSurrogates
        var index = 0

        init(bytes: [UInt8], maximumDepth: Int, loneSurrogates: LoneSurrogates) {
            self.bytes = bytes
            self.maximumDepth = maximumDepth
            self.loneSurrogates = loneSurrogates
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                index += 1
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard current == byte else { return false }
            index += 1
            return true
        }

        mutating func value(depth: Int) -> JSONValue? {
            switch current {
            case UInt8(ascii: "{"):
                guard depth < maximumDepth else { return nil }
                index += 1
                skipSpace()
                var object: [String: JSONValue] = [:]
                if take(UInt8(ascii: "}")) { return .object(object) }
                while true {
                    guard let key = string() else { return nil }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipSpace()
                    guard let member = value(depth: depth + 1) else { return nil }
                    object[key] = member
                    skipSpace()
                    if take(UInt8(ascii: "}")) { return .object(object) }
                    guard take(UInt8(ascii: ",")) else { return nil }
                    skipSpace()
                }
            case UInt8(ascii: "["):
                guard depth < maximumDepth else { return nil }
                index += 1
                skipSpace()
                var array: [JSONValue] = []
                if take(UInt8(ascii: "]")) { return .array(array) }
                while true {
                    guard let element = value(depth: depth + 1) else { return nil }
                    array.append(element)
                    skipSpace()
                    if take(UInt8(ascii: "]")) { return .array(array) }
                    guard take(UInt8(ascii: ",")) else { return nil }
                    skipSpace()
                }
            case UInt8(ascii: "\""): return string().map(JSONValue.string)
            case UInt8(ascii: "t"): return word("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return word("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return word("null") ? .null : nil
            default: return number()
            }
        }

        mutating func word(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
            index += count
            return true
        }

        mutating func digits() -> Int {
            let start = index
            while let byte = current, byte >= 0x30 && byte <= 0x39 { index += 1 }
            return index - start
        }

        mutating func number() -> JSONValue? {
            let start = index
            var whole = true
            _ = take(UInt8(ascii: "-"))
            if take(UInt8(ascii: "0")) {
                if let byte = current, byte >= 0x30 && byte <= 0x39 { return nil }
            } else if digits() == 0 {
                return nil
            }
            if take(UInt8(ascii: ".")) {
                whole = false
                if digits() == 0 { return nil }
            }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                whole = false
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                if digits() == 0 { return nil }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if whole, let integer = Int64(text) { return .integer(integer) }
            // Swift's Double(String) is correctly rounded: a shortest representation comes back bit for bit.
            return Double(text).map(JSONValue.double)
        }

        /// A string; `\u` escapes of UTF-16 surrogates must come in pairs (or are replaced, if so asked).
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var text: [UInt8] = []
            var start = index
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    text += bytes[start..<index]
                    index += 1
                    return String(decoding: text, as: UTF8.self)
                case 0..<0x20: return nil
                case UInt8(ascii: "\\"):
                    text += bytes[start..<index]
                    index += 1
                    guard let scalar = escape() else { return nil }
                    text += Array(String(Character(scalar)).utf8)
                    start = index
                default: index += 1
                }
            }
            return nil
        }

        /// After a backslash: one escape, `index` past it.
        mutating func escape() -> Unicode.Scalar? {
            guard let byte = current else { return nil }
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
                let lone: Unicode.Scalar? = loneSurrogates == .replaced ? "\u{FFFD}" : nil
                if unit >= 0xDC00 && unit <= 0xDFFF { return lone }
                guard unit >= 0xD800 && unit <= 0xDBFF else { return Unicode.Scalar(unit) }
                let mark = index
                guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(),
                    low >= 0xDC00 && low <= 0xDFFF
                else {
                    index = mark
                    return lone
                }
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            default: return nil
            }
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(bytes[index])).hexDigitValue else { return nil }
                value = value * 16 + UInt32(digit)
                index += 1
            }
            return value
        }
    }
}
