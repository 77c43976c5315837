/// What PyYAML's `safe_load` makes of a plain (unquoted) scalar: rlwatch reads rlwatch.yaml with it.
///
/// PyYAML follows YAML 1.1; YAML 1.2 resolvers (Yams', which kltop used before YAMLNodes) type scalars their
/// own way, and the two differ where a setting's meaning is at stake: to PyYAML `1e3` is text (a YAML 1.1 number needs a dot and
/// a signed exponent: `1.0e+3`), on which rlwatch fails; `1:30` is 90 (base 60); `010` is 8; `-.5` is text.
/// A setting must mean in kltop what it means in rlwatch, so kltop types scalars as PyYAML does: its
/// resolver's patterns and constructors, transcribed. Tests/Fixtures/pyyaml/scalars.json holds PyYAML's own
/// answers, which the tests replay.
enum PyYAMLScalar: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits (Python's have no bound), as the nearest Double.
    case bigInt(Double)
    case float(Double)
    case text
    /// Matched as a number, then refused by PyYAML's constructor (`0b_`), or a value of YAML 1.1's types
    /// that safe_load cannot make (`=`, `<<`): rlwatch cannot load the file.
    case unreadable

    init(plain text: String) {
        if text == "=" || text == "<<" {
            self = .unreadable
        } else if Self.nulls.contains(text) {
            self = .null
        } else if let value = Self.bools[text] {
            self = .bool(value)
        } else if Self.floatPatterns.contains(where: { text.wholeMatch(of: $0) != nil }) {
            self = Self.float(text).map(PyYAMLScalar.float) ?? .unreadable
        } else if Self.intPatterns.contains(where: { text.wholeMatch(of: $0) != nil }) {
            self = Self.int(text)
        } else {
            self = .text
        }
    }

    private static let nulls: Set<String> = ["", "~", "null", "Null", "NULL"]

    private static let bools: [String: Bool] = {
        var bools: [String: Bool] = [:]
        for (word, value) in [
            ("yes", true), ("no", false), ("true", true), ("false", false), ("on", true), ("off", false),
        ] {
            for spelling in [word, word.prefix(1).uppercased() + word.dropFirst(), word.uppercased()] {
                bools[spelling] = value
            }
        }
        return bools
    }()

    // PyYAML's resolver.py, YAML 1.1's float and int patterns. Compiled per use: a config has a few values,
    // and a Regex is not Sendable.
    private static var floatPatterns: [Regex<AnyRegexOutput>] {
        [
            #"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?"#,
            #"\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"#,
            #"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"#,
            #"[-+]?\.(?:inf|Inf|INF)"#,
            #"\.(?:nan|NaN|NAN)"#,
        ].map { try! Regex($0) }
    }

    private static var intPatterns: [Regex<AnyRegexOutput>] {
        [
            #"[-+]?0b[0-1_]+"#,
            #"[-+]?0[0-7_]+"#,
            #"[-+]?(?:0|[1-9][0-9_]*)"#,
            #"[-+]?0x[0-9a-fA-F_]+"#,
            #"[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"#,
        ].map { try! Regex($0) }
    }

    /// PyYAML's `construct_yaml_int`: underscores dropped, then the sign, `0b`, `0x`, a leading 0 (octal),
    /// or base-60 parts (each in decimal).
    private static func int(_ text: String) -> PyYAMLScalar {
        var digits = Substring(text.filter { $0 != "_" })
        let negative = digits.first == "-"
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        var radix = 10
        if digits.hasPrefix("0b") || digits.hasPrefix("0x") {
            radix = digits.hasPrefix("0b") ? 2 : 16
            digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.first == "0" && !digits.contains(":") {
            radix = 8
        }
        guard !digits.isEmpty else { return .unreadable }
        // Base-60 parts are decimal; past the pattern, a part that does not fit `UInt64` is beyond 64 bits.
        let parts = digits.split(separator: ":")
        let base: UInt64 = parts.count > 1 ? 60 : 1
        var exact: UInt64? = 0
        for part in parts {
            guard let total = exact, let value = UInt64(part, radix: radix) else {
                exact = nil
                break
            }
            let (shifted, overflow) = total.multipliedReportingOverflow(by: base)
            let (sum, carry) = shifted.addingReportingOverflow(value)
            exact = overflow || carry ? nil : sum
        }
        if let exact {
            if negative && exact == UInt64(Int.max) + 1 { return .int(.min) }
            if let value = Int(exactly: exact) { return .int(negative ? -value : value) }
        }
        // Decimal digits (nearly always) rounded once, as Python's float() of the integer does.
        let approximate = parts.reduce(0.0) { total, part in
            let value =
                radix == 10
                ? Double(part) ?? 0
                : part.reduce(0.0) { $0 * Double(radix) + Double($1.hexDigitValue ?? 0) }
            return total * Double(base) + value
        }
        return .bigInt(negative ? -approximate : approximate)
    }

    /// PyYAML's `construct_yaml_float`: underscores dropped, `.inf` and `.nan`, base-60 parts, else Python's
    /// `float()` of the rest.
    private static func float(_ text: String) -> Double? {
        var digits = Substring(text.filter { $0 != "_" }.lowercased())
        let sign: Double = digits.first == "-" ? -1 : 1
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        if digits == ".inf" { return sign * .infinity }
        if digits == ".nan" { return .nan }
        if digits.contains(":") {
            // In PyYAML's order, last part first, so that the sum rounds as it does.
            var total = 0.0
            var base = 1.0
            for part in digits.split(separator: ":").reversed() {
                guard let value = Double(part) else { return nil }
                total += value * base
                base *= 60
            }
            return sign * total
        }
        return Double(digits).map { sign * $0 }
    }
}
