import Foundation
import RunLogs
import TestSupport

/// The harnesses of the streaming readers: every promise of ``StreamingInvariants``, once with the readers'
/// default limits and once with limits small enough for a fuzzer's inputs to exceed (so that the paths
/// skipping what is too long are fuzzed too), and each format's own promises.
enum ReaderHarnesses {
    /// Lines and records longer than this are too long in the second pass.
    static let smallLimit = 40

    static func jsonl(_ input: [UInt8]) throws(InvariantViolation) {
        for limit in [1 << 20, smallLimit] {
            try StreamingInvariants(.readsAgain(sameSteps: false), numbersLines: true) {
                JSONLReader(maxLineBytes: limit)
            }.check(input)
        }
        try jsonlAgreesWithJSONDecoder(input)
    }

    static func csv(_ input: [UInt8]) throws(InvariantViolation) {
        for limit in [1 << 20, smallLimit] {
            let whole = try StreamingInvariants(.recognisesWhatWasRead, numbersLines: true) {
                CSVReader(maxRecordBytes: limit)
            }.check(input)
            try csvGrowingByRewriteReadsEveryRowOnce(input, whole: whole, limit: limit)
        }
    }

    static func console(_ input: [UInt8]) throws(InvariantViolation) {
        for limit in [1 << 20, smallLimit] {
            try StreamingInvariants(.readsAgain(sameSteps: false), numbersLines: true) {
                ConsoleReader(maxLineBytes: limit)
            }.check(input)
            try consoleHoldsBoundedBytes(input, limit: limit)
        }
        try consoleRecordsAreWholeLines(input)
    }

    /// What the reader holds back (a partial line, a multi-line dict not closed yet) stays within its
    /// limits however the input goes on: a line of at most `limit` bytes, a dict of at most `limit`.
    static func consoleHoldsBoundedBytes(_ input: [UInt8], limit: Int) throws(InvariantViolation) {
        var reader = ConsoleReader(maxLineBytes: limit)
        var reading = Reading()
        feed(&reader, input, into: &reading)
        try require(
            reader.heldByteCount <= 2 * limit + 1,
            "holds \(reader.heldByteCount) bytes with a limit of \(limit): \(reading)")
    }

    /// The input as an event file, and the input as the data of one record whose CRCs verify: mutations
    /// of an event file almost never keep its CRCs right, so without the second the protobuf decoder
    /// would hardly be fuzzed.
    static func tensorboard(_ input: [UInt8]) throws(InvariantViolation) {
        for limit in [TensorBoardEventReader.defaultMaxRecordBytes, smallLimit] {
            let invariants = StreamingInvariants(.readsAgain(sameSteps: true), numbersLines: false) {
                TensorBoardEventReader(maxRecordBytes: limit)
            }
            try invariants.check(input)
            let framed = try invariants.check(TFRecordEncoding.record(input)).statistics
            try require(
                framed.records + framed.badLines == 1,
                "one framed record read as \(framed.records) records and \(framed.badLines) bad ones")
            try require(
                !framed.firstBadLines.contains { $0.reason.contains("CRC") },
                "a record whose CRCs verify was refused: \(framed.firstBadLines)")
        }
    }

    /// The input as a transaction log, and as the payload of one record framed with CRCs that verify
    /// (split into parts when it is longer than a block), for the same reason as event files.
    static func wandb(_ input: [UInt8]) throws(InvariantViolation) {
        for limit in [WandbTransactionLogReader.defaultMaxRecordBytes, smallLimit] {
            let invariants = StreamingInvariants(.readsAgain(sameSteps: false), numbersLines: false) {
                WandbTransactionLogReader(maxRecordBytes: limit)
            }
            try invariants.check(input)
            let framed = try invariants.check(WandbLogEncoding.file([input])).statistics
            try require(
                framed.records + framed.badLines == 1,
                "one framed record read as \(framed.records) records and \(framed.badLines) bad ones")
            try require(
                !framed.firstBadLines.contains { $0.reason.contains("CRC") || $0.reason.contains("chunk") },
                "a record whose framing verifies was refused: \(framed.firstBadLines)")
        }
    }

    /// The input as a SwanLab run file, and as the payload of one record framed with CRCs that verify, as
    /// for W&B: the framing is shared, the Record protobuf and the first step's key choice are not.
    static func swanlab(_ input: [UInt8]) throws(InvariantViolation) {
        for limit in [SwanlabRunFileReader.defaultMaxRecordBytes, smallLimit] {
            let invariants = StreamingInvariants(.readsAgain(sameSteps: false), numbersLines: false) {
                SwanlabRunFileReader(maxRecordBytes: limit)
            }
            try invariants.check(input)
            let framed = try invariants.check(SwanlabLogEncoding.file([input])).statistics
            try require(
                framed.records + framed.badLines == 1,
                "one framed record read as \(framed.records) records and \(framed.badLines) bad ones")
            try require(
                !framed.firstBadLines.contains { $0.reason.contains("CRC") || $0.reason.contains("chunk") },
                "a record whose framing verifies was refused: \(framed.firstBadLines)")
        }
    }

    static func trainerState(_ input: [UInt8]) throws(InvariantViolation) {
        for limit in [TrainerStateReader.defaultMaxDocumentBytes, 512] {
            try StreamingInvariants(.recognisesWhatWasRead, numbersLines: true) {
                TrainerStateReader(maxDocumentBytes: limit)
            }.check(input)
        }
    }

    // MARK: - Each format's own promises

    /// kltop's JSON scanner is more lenient than JSON, never less: every line Foundation's JSONDecoder
    /// reads as an object is a record, not a bad line (except one nested deeper than the scanner's 64
    /// levels). Where such a line holds `"kl"` once, as a number the decoder reads, the scanner reads the
    /// same double. Left out: lines with a backslash, as an escaped key is the same key to the decoder and
    /// a different one to the scanner, which compares keys as bytes; lines with a comma before a `}`,
    /// which Foundation accepts (`{"a": 1, }`) and JSON, Python and kltop do not; and numbers JSON does not
    /// have that Foundation reads anyway (`0.5.0`).
    static func jsonlAgreesWithJSONDecoder(_ input: [UInt8]) throws(InvariantViolation) {
        for var line in input.split(separator: 0x0A)
        where !line.contains(UInt8(ascii: "\\")) && !hasCommaBeforeBrace(line) {
            if line.last == 0x0D { line = line.dropLast() }  // as LineSplitter takes it off
            guard let decoded = try? JSONDecoder().decode(KLField.self, from: Data(line)) else { continue }
            var scanner = JSONLineScanner(selection: .key("kl"))
            let outcome = line.withUnsafeBufferPointer { scanner.scan($0) }
            switch outcome {
            case .bad("nested too deeply"): continue
            case .bad(let reason)
            where reason.hasPrefix("invalid number ")
                && !isJSONNumber(reason.dropFirst("invalid number ".count)):
                // Foundation reads some numbers JSON does not have (`0.5.0`); Python and kltop do not.
                continue
            case .bad, .blank:
                throw InvariantViolation(
                    "JSONDecoder reads an object but the scanner says \(outcome): \(String(decoding: line, as: UTF8.self))"
                )
            default: break
            }
            guard let value = decoded.kl, occurrences(of: "\"kl\"", in: line) == 1 else { continue }
            guard case .sample(let sample) = outcome, sample.value == value else {
                throw InvariantViolation(
                    "JSONDecoder reads kl as \(value), the scanner \(outcome): \(String(decoding: line, as: UTF8.self))"
                )
            }
        }
    }

    private static func hasCommaBeforeBrace(_ line: ArraySlice<UInt8>) -> Bool {
        var previous: UInt8 = 0
        for byte in line where byte != 0x20 && byte != 0x09 && byte != 0x0D {
            if byte == UInt8(ascii: "}") && previous == UInt8(ascii: ",") { return true }
            previous = byte
        }
        return false
    }

    /// Whether `token` is a number as JSON (RFC 8259) writes it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func isJSONNumber(_ token: Substring) -> Bool {
        var rest = token.utf8[...]
        func digits() -> Int {
            let count = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            rest = rest.dropFirst(count)
            return count
        }
        if rest.first == UInt8(ascii: "-") { rest = rest.dropFirst() }
        if rest.first == UInt8(ascii: "0") { rest = rest.dropFirst() } else if digits() == 0 { return false }
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            if digits() == 0 { return false }
        }
        if rest.first == UInt8(ascii: "e") || rest.first == UInt8(ascii: "E") {
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: "-") { rest = rest.dropFirst() }
            if digits() == 0 { return false }
        }
        return rest.isEmpty
    }

    /// The top-level `kl` of a JSON object, as JSONDecoder reads it: nil when absent or not a number.
    /// Decoding fails for anything but an object.
    private struct KLField: Decodable {
        var kl: Double?

        enum CodingKeys: CodingKey {
            case kl
        }

        init(from decoder: any Decoder) throws {
            let object = try decoder.container(keyedBy: CodingKeys.self)
            kl = try? object.decode(Double.self, forKey: .kl)
        }
    }

    /// Writers that rewrite the whole file to grow it (stable-baselines3, Lightning): reading the file as
    /// it was (a prefix ending at a line end), then after `restart()` as it is, emits every sample once.
    /// Inputs with quotes are left out, as a prefix could end inside a quoted cell, a state no writer
    /// leaves on disk.
    static func csvGrowingByRewriteReadsEveryRowOnce(_ input: [UInt8], whole: Reading, limit: Int)
        throws(InvariantViolation)
    {
        let lineEnds = input.indices.filter { input[$0] == 0x0A }
        guard !input.contains(UInt8(ascii: "\"")), !lineEnds.isEmpty else { return }
        let prefix = Array(input[...lineEnds[Int(fnv1a(input) % UInt64(lineEnds.count))]])
        var reader = CSVReader(maxRecordBytes: limit)
        var reading = Reading()
        feed(&reader, prefix, into: &reading)
        reader.finish { reading.append($0) }
        reader.restart()
        feed(&reader, input, into: &reading)
        reader.finish { reading.append($0) }
        let s = reader.statistics
        try require(
            reading.samples == whole.samples && s.records == whole.statistics.records
                && s.missingValues == whole.statistics.missingValues,
            "its first \(prefix.count) bytes, then after restart() all of it, read differently from all of it:\n"
                + "  all of it:  \(whole)\n  in two:     \(reading)")
    }

    /// "A line is a record only if the record is the whole line": with a word put before every piece of
    /// text, nothing is a record and nothing is bad. Pieces holding a logging header's end (`] `, or the
    /// ` - ` after a source line) are left out, since OpenRLHF's, ROLL's, slime's and SkyRL's records may
    /// follow one, and so are pieces with terminal escapes, which could spell one once taken out. SkyRL's
    /// dict lines follow a header line, so they are no records here either.
    static func consoleRecordsAreWholeLines(_ input: [UInt8]) throws(InvariantViolation) {
        var prefixed: [UInt8] = []
        for piece in input.split(whereSeparator: { $0 == 0x0A || $0 == 0x0D })
        where !piece.contains(0x1B) && occurrences(of: "] ", in: piece) == 0
            && occurrences(of: " - ", in: piece) == 0
        {
            prefixed += Array("note: ".utf8) + piece + [0x0A]
        }
        var reader = ConsoleReader()
        var reading = Reading()
        feed(&reader, prefixed, into: &reading)
        reader.finish { reading.append($0) }
        let s = reader.statistics
        try require(
            reading.samples.isEmpty && s.records == 0 && s.badLines == 0,
            "lines that are not records read as records or bad lines: \(reading)")
    }

    static func occurrences(of needle: String, in bytes: ArraySlice<UInt8>) -> Int {
        let needle = Array(needle.utf8)
        guard bytes.count >= needle.count else { return 0 }
        return (bytes.startIndex...(bytes.endIndex - needle.count)).count { start in
            bytes[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}
