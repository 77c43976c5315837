import RunLogs
import TestSupport

/// Reading compressed logs: the input as it is (plain text passes through; bytes that start like gzip or
/// zstd and go on as garbage are corrupt data), and the input compressed with gzip and with zstd, whole, cut
/// short, and with a byte changed, at places drawn from the input's hash. Whatever the bytes, the reader
/// keeps every streaming promise (``StreamingInvariants``), never hangs, and:
/// - a compressed log reads exactly as the log itself;
/// - a log cut short reads as far as it goes (what it gives is what the whole gave, but for a last record
///   the cut may have made), and says it was cut short.
///
/// Damaged zstd data is the exception to "the same however it is cut": libzstd notices some damage only when
/// it is handed a frame in one piece (a compressed block of no bytes), and a frame whose checksum fails
/// gives nothing when it comes in one call but its blocks when it comes in pieces. So a damaged zstd file,
/// however it is cut, reads the same or is said to be corrupt both ways.
enum DecompressionHarness {
    private static func readAll(_ input: [UInt8], cuts: [Int]) -> Reading {
        var reader = DecompressingReader(JSONLReader())
        var reading = Reading()
        feed(&reader, input, cuts: cuts, into: &reading)
        reader.finish { reading.append($0) }
        reading.statistics = reader.statistics
        return reading
    }

    static func run(_ input: [UInt8]) throws(InvariantViolation) {
        let invariants = StreamingInvariants(.readsAgain(sameSteps: false), numbersLines: false) {
            DecompressingReader(JSONLReader())
        }
        try invariants.check(input)
        var plain = JSONLReader()
        var expected = Reading()
        input.withUnsafeBytes { plain.consume($0) { expected.append($0) } }
        plain.finish { expected.append($0) }
        expected.statistics = plain.statistics

        var generator = SeededGenerator(seed: fnv1a(input))
        for (compressed, isZstd) in [(Compressing.gzip(input), false), (Compressing.zstd(input), true)] {
            let whole = try invariants.check(compressed)
            var counts = whole.statistics
            counts.bytes = expected.statistics.bytes
            try require(
                whole.samples == expected.samples && counts == expected.statistics,
                "compressed, the log reads differently:\n  plain:      \(expected)\n  compressed: \(whole)")

            let cut = Int.random(in: 1..<compressed.count, using: &generator)
            let truncated = try invariants.check(Array(compressed.prefix(cut)))
            try require(
                expected.samples.starts(with: truncated.samples.dropLast()),
                "cut short at byte \(cut), the log gave samples the whole did not:\n  whole: \(expected)\n  cut: \(truncated)"
            )
            try require(
                truncated.statistics.badLines >= 1,
                "cut short at byte \(cut) of \(compressed.count), nothing said so: \(truncated)")

            var damaged = compressed
            let position = Int.random(in: 0..<damaged.count, using: &generator)
            damaged[position] ^= UInt8.random(in: 1...255, using: &generator)
            if !isZstd {
                try invariants.check(damaged)
                continue
            }
            let damagedWhole = readAll(damaged, cuts: [])
            for cuts in StreamingInvariants<JSONLReader>.cutPlans(damaged) {
                let cut = readAll(damaged, cuts: cuts)
                func saysCorrupt(_ reading: Reading) -> Bool {
                    reading.statistics.firstBadLines.contains { $0.reason.contains("zstd data is corrupt") }
                }
                try require(
                    cut.statistics.bytes == damaged.count
                        && (cut.samples == damagedWhole.samples
                            || (saysCorrupt(cut) && saysCorrupt(damagedWhole))),
                    "damaged zstd data cut in pieces gives other samples:\n  whole: \(damagedWhole)\n  cut: \(cut)"
                )
            }
        }
    }
}
