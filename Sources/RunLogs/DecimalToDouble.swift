/// Decimal text to the nearest double without calling C's strtod, for the numbers logs are made of.
///
/// Why: glibc's strtod took much of the time spent reading run logs. KL values are written by Python's
/// `repr` (shortest round-trip: 16–17 significant digits such as `0.010644092376577732`, or short ones like
/// `1e-05` and `5.0`), and those need neither strtod's arbitrary-precision machinery nor the copy into a
/// NUL-terminated buffer that calling it takes.
///
/// What: the algorithms of Daniel Lemire's fast_float, Go's strconv and Rust's `core::num::dec2flt`:
/// 1. Clinger's fast path: when the digits fit in 53 bits and the power of ten is exactly representable,
///    one IEEE multiplication or division is already correctly rounded.
/// 2. The Eisel–Lemire algorithm: for up to 19 significant digits, multiply them by a 128-bit
///    approximation of the power of ten (``PowersOfFive``) and keep the top bits, which decide the
///    rounding except in cases the algorithm detects.
/// 3. Anything else is ``Outcome/undecided`` and the caller hands it to strtod, which stays the reference:
///    more than 19 significant digits, a product too close to call, and every spelling not matched
///    below (hex, `inf`, `nan`, leading whitespace, a bare `1e`), so what strtod accepts or refuses is
///    unchanged.
///
/// The results are bit for bit strtod's in round-to-nearest mode, the only rounding mode kltop runs in:
/// DecimalToDoubleTests compare the two on about 600,000 generated texts per run (and on 100 times as many
/// with `KLTOP_NUMBER_SAMPLES=100`).
enum DecimalToDouble {
    /// What the fast path made of a token.
    enum Outcome: Equatable {
        /// The correctly rounded value: the bits strtod returns.
        case value(Double)
        /// Text that strtod certainly converts none of (`null`, `true`, `false`, …), so no number.
        case refused
        /// Text this parser does not decide; strtod must.
        case undecided
    }

    /// Reads `p[start..<end]` as `[+-]digits[.digits][(e|E)[+-]digits]` (at least one digit before the
    /// exponent; either side of the point may be empty) and converts it.
    static func parse(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Outcome {
        var i = start
        guard i < end else { return .undecided }
        let negative = p[i] == UInt8(ascii: "-")
        if negative || p[i] == UInt8(ascii: "+") { i += 1 }
        guard i < end else { return .undecided }

        // strtod's subject sequence can only start with a digit, '.', "inf", "nan" or whitespace, so a
        // token starting with any other letter is refused here; JSON's null and booleans end up here, and
        // are worth not handing to strtod.
        let lowered = p[i] | 0x20
        if lowered >= UInt8(ascii: "a") && lowered <= UInt8(ascii: "z") {
            if lowered == UInt8(ascii: "i") { return .undecided }
            if lowered == UInt8(ascii: "n") && i + 1 < end && p[i + 1] | 0x20 == UInt8(ascii: "a") {
                return .undecided
            }
            return .refused
        }

        // The significant digits, as one integer (wrapping past 19 digits, which are then left to strtod).
        var digits: UInt64 = 0
        let integerStart = i
        while i < end && p[i] == UInt8(ascii: "0") { i += 1 }
        let significantStart = i
        readDigits(p, &i, end, into: &digits)
        var digitCount = i - significantStart
        var sawDigit = i > integerStart
        var exponent = 0
        if i < end && p[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            // Zeros right after the point are not significant when no digit came before them.
            if digitCount == 0 { while i < end && p[i] == UInt8(ascii: "0") { i += 1 } }
            let fractionSignificantStart = i
            readDigits(p, &i, end, into: &digits)
            digitCount += i - fractionSignificantStart
            exponent = fractionStart - i
            sawDigit = sawDigit || i > fractionStart
        }
        guard sawDigit else { return .undecided }

        if i < end && p[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var exponentNegative = false
            if i < end && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
                exponentNegative = p[i] == UInt8(ascii: "-")
                i += 1
            }
            let exponentStart = i
            var written = 0
            while i < end {
                let d = p[i] &- UInt8(ascii: "0")
                if d > 9 { break }
                // Saturates: past ±100000 every exponent gives 0 or infinity, so more digits change nothing.
                if written < 100_000 { written = written * 10 + Int(d) }
                i += 1
            }
            guard i > exponentStart else { return .undecided }
            exponent += exponentNegative ? -written : written
        }
        guard i == end, digitCount <= 19 else { return .undecided }

        if let value = clinger(digits, exponent) { return .value(negative ? -value : value) }
        guard let bits = eiselLemire(digits, exponent) else { return .undecided }
        return .value(Double(bitPattern: negative ? bits | 1 << 63 : bits))
    }

    /// Appends the decimal digits at `p[i...]` to `value`, advancing `i` past them.
    ///
    /// Eight at a time while eight remain and all are digits (a repr's 16–17 digits are mostly read so),
    /// then one at a time.
    @inline(__always)
    private static func readDigits(
        _ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int, into value: inout UInt64
    ) {
        while end - i >= 8 {
            let chunk = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            guard areEightDigits(chunk) else { break }
            value = value &* 100_000_000 &+ eightDigitsValue(chunk)
            i += 8
        }
        while i < end {
            let d = p[i] &- UInt8(ascii: "0")
            if d > 9 { return }
            value = value &* 10 &+ UInt64(d)
            i += 1
        }
    }

    /// Whether all eight bytes of `chunk` are ASCII digits: adding 0x46 sets a byte's top bit from ':'
    /// upwards, subtracting 0x30 below '0' (fast_float's `is_made_of_eight_digits_fast`).
    @inline(__always)
    static func areEightDigits(_ chunk: UInt64) -> Bool {
        ((chunk &+ 0x4646_4646_4646_4646) | (chunk &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0
    }

    /// The value of eight ASCII digits loaded little-endian (first digit in the low byte), by combining
    /// neighbours into 2-, 4- and 8-digit groups with three multiplications (fast_float's
    /// `parse_eight_digits_unrolled`).
    @inline(__always)
    static func eightDigitsValue(_ chunk: UInt64) -> UInt64 {
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        var value = chunk &- 0x3030_3030_3030_3030
        // Bytes 0, 2, 4, 6 now hold the pairs d0d1, d2d3, d4d5, d6d7 (0...99).
        value = value &* 10 &+ (value >> 8)
        // Pairs 0 and 2 scaled by 10^6 and 10^2, pairs 1 and 3 by 10^4 and 1; the sum lands in the top half.
        let pairs02 = (value & mask) &* (100 + 1_000_000 << 32)
        let pairs13 = ((value >> 16) & mask) &* (1 + 10_000 << 32)
        return (pairs02 &+ pairs13) >> 32
    }

    // MARK: - Clinger's fast path

    /// 10^0 ... 10^22: the powers of ten a double holds exactly (5^22 < 2^53).
    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18,
        1e19, 1e20, 1e21, 1e22,
    ]

    /// 10^0 ... 10^15 as integers, to move a too-large power of ten into small digits.
    private static let integerPowersOfTen: [UInt64] = [
        1, 10, 100, 1000, 10000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
    ]

    /// `digits × 10^exponent` when both factors are exact doubles, so that the one IEEE operation rounds
    /// correctly (Clinger, 1990). Also "disguised" cases such as `123e25`, whose extra zeros fit in the
    /// digits (123000 × 10^22). Nil when the fast path does not apply.
    @inline(__always)
    static func clinger(_ digits: UInt64, _ exponent: Int) -> Double? {
        guard digits <= 1 << 53 else { return nil }
        if exponent >= -22 && exponent <= 22 {
            let value = Double(digits)
            return exponent < 0 ? value / exactPowersOfTen[-exponent] : value * exactPowersOfTen[exponent]
        }
        guard exponent > 22 && exponent <= 22 + 15 else { return nil }
        let (scaled, overflow) = digits.multipliedReportingOverflow(by: integerPowersOfTen[exponent - 22])
        guard !overflow && scaled <= 1 << 53 else { return nil }
        return Double(scaled) * 1e22
    }

    // MARK: - Eisel–Lemire

    /// Decimal exponents beyond which 19 digits give 0 (w × 10^-343 < 2^64 × 10^-343, under half the
    /// smallest subnormal) or infinity (10^309 > DBL_MAX).
    private static let smallestPowerOfTen = -342
    private static let largestPowerOfTen = 308

    /// The bits of the double nearest `digits × 10^exponent` (sign clear), or nil when the 128-bit
    /// product cannot tell which way to round, for strtod to decide. `digits` has at most 19 decimal digits.
    ///
    /// Follows fast_float's `compute_float<binary_format<double>>` (Lemire, "Number Parsing at a Gigabyte
    /// per Second", Software: Practice and Experience 51(8), 2021) line by line, including its paper's
    /// original fallback when the truncated product's low word is all ones; Mushtak and Lemire later proved
    /// that branch unreachable for doubles, so it costs a comparison and buys a second line of defence.
    static func eiselLemire(_ digits: UInt64, _ exponent: Int) -> UInt64? {
        let mantissaBits = 52
        let infinityBits: UInt64 = 0x7FF << 52
        if digits == 0 || exponent < smallestPowerOfTen { return 0 }
        if exponent > largestPowerOfTen { return infinityBits }

        // Normalise so the top bit is set; the product then has its leading one in bit 127 or 126.
        let leadingZeros = digits.leadingZeroBitCount
        let w = digits << leadingZeros

        // w × 5^exponent, top 128 bits. The high word of the first product usually holds every bit needed:
        // 52 explicit + 1 implicit + 1 to round + 1 for a possible leading zero = 55 bits, leaving 9 below.
        // Only when those 9 bits are all ones could the missing low part carry into them.
        let index = 2 * (exponent - PowersOfFive.smallestPowerOfFive)
        var (high, low) = w.multipliedFullWidth(by: PowersOfFive.table[index])
        let precisionMask: UInt64 = .max >> (mantissaBits + 3)
        if high & precisionMask == precisionMask {
            let second = w.multipliedFullWidth(by: PowersOfFive.table[index + 1]).high
            low = low &+ second
            if second > low { high += 1 }
        }
        // The truncated product may still be one short when its low word is all ones; it is exact for
        // -27 ≤ exponent ≤ 55 (the table entry holds 5^exponent, or a reciprocal close enough), and
        // otherwise the paper leaves the decision to a slower algorithm: here, strtod.
        if low == .max && (exponent < -27 || exponent > 55) { return nil }

        let upperBit = Int(high >> 63)
        let shift = upperBit + 64 - mantissaBits - 3
        var mantissa = high >> shift
        // floor(exponent × log2(10)) + 63 (217706 / 2^16 ≈ log2(10), exact enough over ±342), rebiased.
        var power2 = ((exponent &* (152_170 + 65536)) >> 16) + 63 + upperBit - leadingZeros + 1023

        if power2 <= 0 {
            // Subnormal: shift into place and round; a round-to-even tie cannot occur this low.
            if -power2 + 1 >= 64 { return 0 }
            mantissa >>= UInt64(-power2 + 1)
            mantissa += mantissa & 1
            mantissa >>= 1
            // Rounding up may have carried into the smallest normal (2.2250738585072014e-308).
            power2 = mantissa < 1 << mantissaBits ? 0 : 1
            return UInt64(power2) << 52 | mantissa
        }

        // An exact tie between two doubles rounds to even. Ties need 5^|exponent| small enough to make the
        // product exact, which confines them to -4 ≤ exponent ≤ 23; there, a product whose dropped bits
        // are all zero is exactly halfway, and the last kept bit decides.
        if low <= 1 && exponent >= -4 && exponent <= 23 && mantissa & 3 == 1 && mantissa << shift == high {
            mantissa &= ~1
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= 2 << mantissaBits {
            // Rounding carried out of the 53 bits.
            mantissa = 1 << mantissaBits
            power2 += 1
        }
        mantissa &= ~(1 << mantissaBits)
        if power2 >= 0x7FF { return infinityBits }
        return UInt64(power2) << 52 | mantissa
    }
}
