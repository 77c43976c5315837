import Foundation
import TestSupport
import Testing

@testable import RunLogs

/// `JSONLineScanner.parseDouble` (the fast path with its strtod fallback) against
/// `parseDoubleWithStrtod` (strtod alone, as before the fast path): the same bits, and the same texts
/// refused, on generated inputs of every kind the fast path could get wrong.
///
/// Sampled to keep `swift test` short; `KLTOP_NUMBER_SAMPLES=100` multiplies every sample count, and
/// `KLTOP_NUMBER_SEED` draws other samples (run them in release mode,
/// `swift test -c release -Xswiftc -enable-testing --filter DecimalToDouble`).
@Suite struct DecimalToDoubleTests {
    static let scale = Int(ProcessInfo.processInfo.environment["KLTOP_NUMBER_SAMPLES"] ?? "") ?? 1
    static let seed = UInt64(ProcessInfo.processInfo.environment["KLTOP_NUMBER_SEED"] ?? "") ?? 0

    /// Compares both parsers on many texts, keeping the first few disagreements for the failure message.
    struct Comparison {
        var checked = 0
        /// Texts the fast path decided without strtod.
        var decidedFast = 0
        var mismatches: [String] = []

        mutating func check(_ text: String) {
            var text = text
            text.withUTF8 { check($0) }
        }

        mutating func check(_ bytes: UnsafeBufferPointer<UInt8>) {
            checked += 1
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            let range = 0..<bytes.count
            let fast = JSONLineScanner.parseDouble(base, range)
            let reference = JSONLineScanner.parseDoubleWithStrtod(base, range)
            if case .value = DecimalToDouble.parse(base, from: 0, to: bytes.count) { decidedFast += 1 }
            if fast?.bitPattern != reference?.bitPattern && mismatches.count < 20 {
                let text = String(decoding: bytes, as: UTF8.self)
                mismatches.append(
                    "\(text.debugDescription): fast \(fast.map { "\($0)" } ?? "nil"), strtod \(reference.map { "\($0)" } ?? "nil")"
                )
            }
        }

        func expectAgreement(_ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(
                mismatches.isEmpty, "\(label): \(mismatches.joined(separator: "\n"))",
                sourceLocation: sourceLocation)
            if DecimalToDoubleTests.scale > 1 {
                print("\(label): \(checked) texts agree; \(decidedFast) decided without strtod")
            }
        }
    }

    // MARK: - Generated inputs

    /// Python's repr of random doubles of every magnitude and both signs, subnormals included: Swift's
    /// `description` prints the same shortest round-trip digits.
    @Test func pythonReprOfRandomDoubles() {
        var random = SeededGenerator(seed: Self.seed + 1)
        var comparison = Comparison()
        for _ in 0..<(100_000 * Self.scale) {
            let value = Double(bitPattern: random.next())
            guard value.isFinite else { continue }
            comparison.check("\(value)")
        }
        comparison.expectAgreement("repr of random doubles")
        // Every shortest round-trip text has at most 17 digits, which Eisel–Lemire always decides.
        #expect(comparison.decidedFast == comparison.checked)
    }

    /// KL-sized values (1e-9 to 100, uniform in log scale), as PPO logs write them, also as strings of
    /// `%.Ng` precision as some loggers do.
    @Test func klSizedValues() {
        var random = SeededGenerator(seed: Self.seed + 2)
        var comparison = Comparison()
        for index in 0..<(100_000 * Self.scale) {
            let value = pow(10, Double.random(in: -9...2, using: &random))
            comparison.check(index % 4 == 0 ? String(format: "%.\(index % 20 + 1)g", value) : "\(value)")
        }
        comparison.expectAgreement("KL-sized values")
        #expect(comparison.decidedFast == comparison.checked)
    }

    /// Random digit strings: 1–25 digits (leading zeros included), the point anywhere or nowhere, exponents
    /// from -350 to 350 spelt every way strtod reads them, signs.
    @Test func randomDigitStrings() {
        var random = SeededGenerator(seed: Self.seed + 3)
        var comparison = Comparison()
        var text: [UInt8] = []
        for _ in 0..<(200_000 * Self.scale) {
            text.removeAll(keepingCapacity: true)
            switch random.next() % 4 {
            case 0: text.append(UInt8(ascii: "-"))
            case 1: text.append(UInt8(ascii: "+"))
            default: break
            }
            let digitCount = Int.random(in: 1...25, using: &random)
            let point = Int.random(in: -digitCount...digitCount, using: &random)  // negative: no point
            let leadingZeros = random.next() % 4 == 0 ? Int.random(in: 1...5, using: &random) : 0
            for position in 0..<digitCount {
                if position == point { text.append(UInt8(ascii: ".")) }
                let digit = position < leadingZeros ? 0 : UInt8(random.next() % 10)
                text.append(UInt8(ascii: "0") + digit)
            }
            if point == digitCount { text.append(UInt8(ascii: ".")) }
            if random.next() % 8 != 0 {
                text.append(random.next() % 2 == 0 ? UInt8(ascii: "e") : UInt8(ascii: "E"))
                let exponent = Int.random(in: -350...350, using: &random)
                if exponent < 0 {
                    text.append(UInt8(ascii: "-"))
                } else if random.next() % 2 == 0 {
                    text.append(UInt8(ascii: "+"))
                }
                if random.next() % 8 == 0 { text.append(UInt8(ascii: "0")) }
                text += Array(String(abs(exponent)).utf8)
            }
            text.withUnsafeBufferPointer { comparison.check($0) }
        }
        comparison.expectAgreement("random digit strings")
    }

    /// Exact midpoints between adjacent doubles (ties, which strtod rounds to even), and the same midpoints
    /// cut to 15–19 digits and nudged one unit in the last digit to either side: the texts closest to a
    /// rounding boundary that the fast path accepts. Across every binary exponent, subnormals and DBL_MAX
    /// included.
    @Test func halfwayCases() {
        var random = SeededGenerator(seed: Self.seed + 4)
        var comparison = Comparison()
        for index in 0..<(4_000 * Self.scale) {
            let value: Double
            switch index % 4 {
            case 0:  // ties the fast path must decide itself: midpoints with at most 19 digits
                let significand = UInt64.random(in: (1 << 52)..<(1 << 53), using: &random)
                value =
                    Double(significand)
                    * Double(sign: .plus, exponent: Int.random(in: -5...11, using: &random), significand: 1)
            case 1:  // subnormals
                value = Double(bitPattern: random.next() % (1 << 52))
            default:
                value = Double(bitPattern: random.next() % 0x7FF0_0000_0000_0000)
            }
            for text in Self.nearMidpointTexts(value, random: &random) { comparison.check(text) }
        }
        for value in [
            Double.greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude,
            Double.leastNormalMagnitude.nextDown, 1, 0x1p53, 0x1p-1022, 0x1p1023,
        ] {
            for text in Self.nearMidpointTexts(value, random: &random) { comparison.check(text) }
        }
        comparison.expectAgreement("halfway cases")
    }

    /// The midpoint above `value`, written exactly (when under the 512-byte limit), and cut to 15–19
    /// significant digits: truncated (just below it), truncated plus one unit (just above), and with a
    /// random digit count.
    static func nearMidpointTexts(_ value: Double, random: inout SeededGenerator) -> [String] {
        let (significand, exponent) = binary(value)
        let (digits, decimalExponent) = exactDecimal(2 * significand + 1, timesTwoTo: exponent - 1)
        var texts: [String] = []
        let sign = random.next() % 2 == 0 ? "" : "-"
        if digits.count < 480 { texts.append(sign + scientific(digits, decimalExponent)) }
        for count in [15, 16, 17, 18, 19, Int.random(in: 1...25, using: &random)] where count < digits.count {
            let dropped = digits.count - count
            let truncated = Array(digits[0..<count])
            texts.append(sign + scientific(truncated, decimalExponent + dropped))
            texts.append(sign + scientific(incremented(truncated), decimalExponent + dropped))
        }
        return texts
    }

    /// `value` (finite, not negative) as significand × 2^exponent with an integer significand.
    static func binary(_ value: Double) -> (UInt64, Int) {
        let bits = value.bitPattern
        let biased = Int(bits >> 52 & 0x7FF)
        let fraction = bits & (1 << 52 - 1)
        return biased == 0 ? (fraction, -1074) : (fraction | 1 << 52, biased - 1075)
    }

    /// The decimal digits of `significand × 2^power` exactly: digits × 10^exponent (the digits without
    /// trailing zeros). A small bignum in base 2^32.
    static func exactDecimal(_ significand: UInt64, timesTwoTo power: Int) -> (digits: [UInt8], exponent: Int)
    {
        var limbs: [UInt32] = [UInt32(truncatingIfNeeded: significand), UInt32(significand >> 32)]
        func multiply(by factor: UInt64) {
            var carry: UInt64 = 0
            for index in limbs.indices {
                let product = UInt64(limbs[index]) * factor + carry
                limbs[index] = UInt32(truncatingIfNeeded: product)
                carry = product >> 32
            }
            while carry != 0 {
                limbs.append(UInt32(truncatingIfNeeded: carry))
                carry >>= 32
            }
        }
        // m × 2^-k = m × 5^k / 10^k
        var remaining = abs(power)
        while remaining > 0 {
            let step = min(remaining, 13)
            if power > 0 {
                multiply(by: 1 << UInt64(step))
            } else {
                var factor: UInt64 = 1
                for _ in 0..<step { factor *= 5 }
                multiply(by: factor)
            }
            remaining -= step
        }
        var chunks: [UInt32] = []  // base 10^9, least significant first
        while limbs.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for index in limbs.indices.reversed() {
                let current = remainder << 32 | UInt64(limbs[index])
                limbs[index] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
            while limbs.last == 0 { limbs.removeLast() }
        }
        var digits: [UInt8] = []
        for (index, chunk) in chunks.reversed().enumerated() {
            let text = String(chunk)
            let padding = index == 0 ? 0 : 9 - text.count
            digits += Array(repeating: 0, count: padding) + text.utf8.map { $0 - UInt8(ascii: "0") }
        }
        var exponent = power < 0 ? power : 0
        while digits.count > 1 && digits.last == 0 {
            digits.removeLast()
            exponent += 1
        }
        return (digits.isEmpty ? [0] : digits, exponent)
    }

    /// Digits plus one unit in the last place (all nines carry into a new leading one).
    static func incremented(_ digits: [UInt8]) -> [UInt8] {
        var digits = digits
        var index = digits.count - 1
        while index >= 0 && digits[index] == 9 {
            digits[index] = 0
            index -= 1
        }
        if index < 0 { return [1] + digits }
        digits[index] += 1
        return digits
    }

    /// digits × 10^exponent as `d.ddde±x`.
    static func scientific(_ digits: [UInt8], _ exponent: Int) -> String {
        let text = String(decoding: digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
        let shown = exponent + digits.count - 1
        return digits.count == 1 ? "\(text)e\(shown)" : "\(text.prefix(1)).\(text.dropFirst())e\(shown)"
    }

    /// Short random texts over the alphabet of numbers and of what strtod might mistake for one: whatever
    /// strtod accepts or refuses, parseDouble must too.
    @Test func randomSyntax() {
        let alphabet = Array("0123456789..eE+-+-xXpinfaINFAtyulo( )\t\u{0B}\u{0C}".utf8)
        var random = SeededGenerator(seed: Self.seed + 5)
        var comparison = Comparison()
        var text: [UInt8] = []
        for _ in 0..<(100_000 * Self.scale) {
            text.removeAll(keepingCapacity: true)
            for _ in 0..<Int.random(in: 1...10, using: &random) {
                text.append(alphabet[Int(random.next() % UInt64(alphabet.count))])
            }
            text.withUnsafeBufferPointer { comparison.check($0) }
        }
        comparison.expectAgreement("random syntax")
    }

    /// Valid numbers with one byte replaced by any byte (0–255), so that digit runs read eight bytes at a
    /// time meet every kind of intruder, in every position.
    @Test func corruptedBytes() {
        var random = SeededGenerator(seed: Self.seed + 6)
        var comparison = Comparison()
        for _ in 0..<(50_000 * Self.scale) {
            var text = Array("\(Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF))".utf8)
            text[Int(random.next() % UInt64(text.count))] = UInt8(truncatingIfNeeded: random.next())
            text.withUnsafeBufferPointer { comparison.check($0) }
        }
        comparison.expectAgreement("corrupted bytes")
    }

    /// The eight-digits-at-a-time helpers against a byte-by-byte reading, on digit runs and near misses.
    @Test func eightDigitChunks() {
        var random = SeededGenerator(seed: Self.seed + 7)
        for round in 0..<(20_000 * Self.scale) {
            var bytes = (0..<8).map { _ in UInt8(ascii: "0") + UInt8(random.next() % 10) }
            if round % 2 == 0 { bytes[Int(random.next() % 8)] = UInt8(truncatingIfNeeded: random.next()) }
            let chunk = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
            let allDigits = bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            #expect(DecimalToDouble.areEightDigits(chunk) == allDigits, "\(bytes)")
            if allDigits {
                let expected = bytes.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - UInt8(ascii: "0")) }
                #expect(DecimalToDouble.eightDigitsValue(chunk) == expected, "\(bytes)")
            }
        }
    }

    // MARK: - Chosen inputs

    @Test func spellingsAcceptedAndRefusedAsBefore() {
        var comparison = Comparison()
        let texts = [
            "0", "-0", "+0", "0.0", "-0.0", "00000", "0000.0000e-0000", "-0e999", "0e99999999999999999999",
            "1", "1.", ".5", "-.5e-3", "+.5", "1e5", "1E5", "1e+5", "1e-5", "1e05", "1e-05", "5.0", "123.0",
            "0.010644092376577732", "1e", "1e+", "1e-", "e5", ".e5", ".", "-", "+", "-.", "1.5.3", "1..5",
            "--1",
            "+-1", "1e5.5", "1e5e5", "0x1p3", "0X10", "-0x1", "inf", "-inf", "+inf", "INF", "Infinity",
            "-Infinity",
            "infinity", "infinit", "infx", "nan", "NaN", "-nan", "nan(123)", "nan(", "nanx", "n", "na", "nul",
            "null", "true", "false", "None", "i", "in", " 1", "1 ", "\t1", "\n1", "\r1", "\u{0B}1", "\u{0C}1",
            "1\u{0B}", "1_000", "1,5", "1.5f", "1.5d", "٣", "1\u{0}", "1\u{0}2", "\u{0}",
            "12345678901234567890",
            "123456789012345678901234567890", "1.00000000000000000000000", "0.000000000000000000000000001",
            "1e99999999999999999999", "1e-99999999999999999999", "-1e400", "1e-400", "9007199254740993",
            "9007199254740992", "9007199254740991", "9007199254740993.0000000000000000001", "123e25",
            "123e37",
            "1e22", "1e23", "9999999999999999999e22", "4.9406564584124654e-324", "5e-324", "2e-324", "3e-324",
            "2.4703282292062327e-324", "2.4703282292062328e-324", "2.2250738585072011e-308",
            "2.2250738585072012e-308", "2.2250738585072014e-308", "1.7976931348623157e308",
            "1.7976931348623158e308", "1.7976931348623159e308", "1e308", "1e309", "1e-324", "1e-342",
            "1e-343",
            "8.98846567431158e307", "2.2250738585072009e-308", "7.2057594037927933e16",
            "7.2057594037927945e16",
            "1.0000000000000002", "0.30000000000000004", "1e-05", "0.1", "0.2", "0.3",
        ]
        for text in texts { comparison.check(text) }
        // Exponents that only a long fraction brings back into range, and exponents past any range.
        for exponent in ["1000", "-1000", "99999", "100000", "-100001", "0000000000000000000000000000300"] {
            comparison.check("1e" + exponent)
            comparison.check("0.0000000000000000000000000000000000000000001e" + exponent)
        }
        comparison.check("0." + String(repeating: "0", count: 400) + "1e400")
        comparison.check("0." + String(repeating: "0", count: 400) + "17976931348623157e709")
        comparison.check("0." + String(repeating: "0", count: 400) + "17976931348623159e709")
        comparison.check("1" + String(repeating: "0", count: 300) + "e-300")
        for length in [500, 510, 511, 512, 513, 600] {
            comparison.check("0." + String(repeating: "1", count: length - 2))
            comparison.check("1" + String(repeating: "0", count: length - 1))
        }
        comparison.expectAgreement("chosen spellings")
    }

    @Test func knownValues() {
        func parse(_ text: String) -> Double? {
            var text = text
            return text.withUTF8 { JSONLineScanner.parseDouble($0.baseAddress!, 0..<$0.count) }
        }
        #expect(parse("0.010644092376577732") == 0.010644092376577732)
        #expect(parse("1e-05") == 0.00001)
        #expect(parse("-.5e-3") == -0.0005)
        #expect(parse("-0")?.sign == .minus)
        #expect(parse("5e-324") == .leastNonzeroMagnitude)
        #expect(parse("1.7976931348623157e308") == .greatestFiniteMagnitude)
        #expect(parse("1e309") == .infinity)
        #expect(parse("9007199254740993") == 9_007_199_254_740_992)  // tie, to even
        #expect(parse("9007199254740995") == 9_007_199_254_740_996)  // tie, to even
        #expect(parse("1e") == nil && parse("null") == nil && parse("0x10") == nil && parse(" 1") == nil)
    }

    /// The fast path decides the numbers logs are made of, rather than falling back to strtod.
    @Test func fastPathDecidesTypicalNumbers() {
        for text in [
            "0.010644092376577732", "1e-05", "5.0", "123.0", "-0.5", "42", "1e300", "5e-324", "null",
        ] {
            var text = text
            let outcome = text.withUTF8 { DecimalToDouble.parse($0.baseAddress!, from: 0, to: $0.count) }
            #expect(outcome != .undecided, "\(text)")
        }
    }

    // MARK: - The table

    /// Entries with an exact 128-bit form, checked by integer arithmetic: 5^q for 0 ≤ q ≤ 55 (below 2^128),
    /// and for -27 ≤ q < 0 the rounded-up reciprocal floor(2^(z+127) / 5^-q) + 1 (z: bits of 5^-q).
    @Test func powersOfFiveTable() {
        let table = PowersOfFive.table
        #expect(table.count == 2 * (PowersOfFive.largestPowerOfFive - PowersOfFive.smallestPowerOfFive + 1))
        func entry(_ q: Int) -> UInt128 {
            let index = 2 * (q - PowersOfFive.smallestPowerOfFive)
            return UInt128(table[index]) << 64 | UInt128(table[index + 1])
        }
        var power: UInt128 = 1
        for q in 0...55 {
            let normalised = power << power.leadingZeroBitCount
            #expect(entry(q) == normalised, "5^\(q)")
            if q < 55 { power *= 5 }
        }
        power = 1
        for q in 1...27 {
            power *= 5
            let bits = 128 - power.leadingZeroBitCount  // 5^q is not a power of two, so this is z
            let (quotient, _) = power.dividingFullWidth((high: 1 << (bits - 1), low: 0))
            #expect(entry(-q) == quotient + 1, "5^-\(q)")
        }
        // The ends, as in fast_float's table.
        #expect(table[0] == 0xEEF4_53D6_923B_D65A && table[1] == 0x113F_AA29_06A1_3B3F)
        #expect(
            table[table.count - 2] == 0x8E67_9C2F_5E44_FF8F && table[table.count - 1] == 0x570F_09EA_A7EA_7648
        )
    }
}
