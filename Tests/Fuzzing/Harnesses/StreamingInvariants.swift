import RunLogs
import TestSupport

/// What a reader made of some bytes: its samples, compared bit for bit (so that NaN equals NaN), and its
/// statistics.
struct Reading: Equatable, CustomStringConvertible {
    struct Sample: Equatable {
        var step: Int64
        var valueBits: UInt64
    }

    var samples: [Sample] = []
    var statistics = ReadStatistics()

    mutating func append(_ sample: MetricSample) {
        samples.append(Sample(step: sample.step, valueBits: sample.value.bitPattern))
    }

    var values: [UInt64] { samples.map(\.valueBits) }

    var description: String {
        let shown = samples.prefix(4).map { "\($0.step):\(Double(bitPattern: $0.valueBits))" }
        let s = statistics
        let bad = s.firstBadLines.map { "\($0.location): \($0.reason)" }
        return "\(samples.count) samples \(shown)\(samples.count > 4 ? "..." : ""); records \(s.records), "
            + "samples \(s.samples), missing \(s.missingValues), ignored \(s.ignoredLines), bytes \(s.bytes), "
            + "bad \(s.badLines) \(bad), held at the end \(s.heldAtEnd), unusable steps \(s.unusableSteps), "
            + "keys seen \(s.keysSeen)"
    }
}

/// Feeds `input` to `reader` in the pieces that `cuts` (ascending offsets) leave, empty pieces included.
func feed<Reader: SampleReader>(
    _ reader: inout Reader, _ input: [UInt8], cuts: [Int] = [], into reading: inout Reading
) {
    var start = 0
    for end in cuts + [input.count] {
        input[start..<end].withUnsafeBytes { reader.consume($0) { reading.append($0) } }
        start = end
    }
}

/// Reads `input` whole, asking for a held record as a quiet writer's follower would
/// (``SampleReader/takeHeldRecordIfComplete(emit:)``) before the end: a promise is that this changes
/// nothing.
func readTakingHeldRecord<Reader: SampleReader>(_ reader: inout Reader, _ input: [UInt8]) -> Reading {
    var taken = Reading()
    feed(&reader, input, into: &taken)
    reader.takeHeldRecordIfComplete { taken.append($0) }
    reader.finish { taken.append($0) }
    taken.statistics = reader.statistics
    return taken
}

/// What a reader does when the file is truncated or replaced and read again from its first byte
/// (``SampleReader/restart()``).
enum RestartPromise {
    /// Append-only logs (JSON Lines, console output, event files): everything after a restart is new, so
    /// the same bytes give the same values again, and the same steps unless they are ordinals that carry on.
    case readsAgain(sameSteps: Bool)
    /// Logs rewritten whole to grow (CSV, trainer_state.json): what was read is recognised, so the same
    /// bytes give nothing new.
    case recognisesWhatWasRead
}

/// The promises every streaming reader keeps, whatever the bytes:
/// - the books balance: every byte counted, every emitted sample counted, no count negative, bad lines
///   numbered within the input, nothing held after `finish()`;
/// - the input cut into pieces anywhere (every byte apart for short inputs; a few cut sets drawn from the
///   input's hash otherwise) reads exactly as the input in one piece: same samples, same statistics, same
///   bad-line messages;
/// - `takeHeldRecordIfComplete()` before `finish()` changes nothing; a second `finish()` adds nothing;
/// - `restart()` then the same bytes again behaves as ``RestartPromise`` says.
struct StreamingInvariants<Reader: SampleReader> {
    let restartPromise: RestartPromise
    /// Text formats number bad records by line, so a number is at most one more than the newlines.
    let numbersLines: Bool
    let makeReader: () -> Reader

    init(_ restartPromise: RestartPromise, numbersLines: Bool, _ makeReader: @escaping () -> Reader) {
        self.restartPromise = restartPromise
        self.numbersLines = numbersLines
        self.makeReader = makeReader
    }

    /// Checks every promise on `input`; returns what the input read as in one piece.
    @discardableResult
    func check(_ input: [UInt8]) throws(InvariantViolation) -> Reading {
        var reader = makeReader()
        let whole = read(input, with: &reader)
        try checkBooks(whole, input)
        try require(reader.heldByteCount == 0, "\(reader.heldByteCount) bytes still held after finish()")

        for cuts in Self.cutPlans(input) {
            var fresh = makeReader()
            let split = read(input, cuts: cuts, with: &fresh)
            try require(
                split == whole,
                "cut at \(Self.describe(cuts)), the input reads differently:\n  whole: \(whole)\n  cut:   \(split)"
            )
        }

        var taking = makeReader()
        let taken = readTakingHeldRecord(&taking, input)
        try require(
            taken == whole,
            "takeHeldRecordIfComplete() before finish() changed the reading:\n  without: \(whole)\n  with:    \(taken)"
        )

        var extra = Reading()
        reader.finish { extra.append($0) }
        try require(
            extra.samples.isEmpty && reader.statistics == whole.statistics,
            "a second finish() changed the reading: \(extra.samples.count) samples, \(reader.statistics)")

        reader.restart()
        let again = read(input, with: &reader)
        try checkRestart(whole: whole, again: again)
        return whole
    }

    /// Feeds `input` in the pieces `cuts` leave, finishes, and returns the reading.
    private func read(_ input: [UInt8], cuts: [Int] = [], with reader: inout Reader) -> Reading {
        var reading = Reading()
        feed(&reader, input, cuts: cuts, into: &reading)
        reader.finish { reading.append($0) }
        reading.statistics = reader.statistics
        return reading
    }

    private func checkBooks(_ reading: Reading, _ input: [UInt8]) throws(InvariantViolation) {
        let s = reading.statistics
        try require(s.bytes == input.count, "statistics.bytes is \(s.bytes) for \(input.count) bytes")
        try require(
            s.samples == reading.samples.count,
            "statistics.samples is \(s.samples), but \(reading.samples.count) samples were emitted")
        try require(
            s.missingValues >= 0 && s.badLines >= 0 && s.ignoredLines >= 0
                && s.records >= s.samples + s.missingValues && s.heldAtEnd >= 0 && s.heldAtEnd <= input.count,
            "the counts do not add up: \(reading)")
        // ReadStatistics keeps the first five bad lines.
        try require(
            s.firstBadLines.count == min(s.badLines, 5),
            "\(s.firstBadLines.count) bad lines kept of \(s.badLines)")
        let lines = input.count(where: { $0 == 0x0A }) + 1
        for bad in s.firstBadLines {
            try require(
                bad.lineNumber >= 1 && (!numbersLines || bad.lineNumber <= lines),
                "bad line numbered \(bad.lineNumber) in an input of \(lines) lines: \(bad.reason)")
            if let offset = bad.byteOffset {
                try require(
                    offset >= 0 && offset < input.count,
                    "bad record at byte \(offset) of \(input.count): \(bad.reason)")
            }
        }
    }

    private func checkRestart(whole: Reading, again: Reading) throws(InvariantViolation) {
        let first = whole.statistics
        /// What reading the bytes again added to a count.
        func added(_ count: KeyPath<ReadStatistics, Int>) -> Int {
            again.statistics[keyPath: count] - first[keyPath: count]
        }
        switch restartPromise {
        case .readsAgain(let sameSteps):
            try require(
                again.values == whole.values && (!sameSteps || again.samples == whole.samples),
                "restart() then the same bytes read differently:\n  first: \(whole)\n  again: \(again)")
            // A malformed console line is bad or ignored depending on whether the KL key was chosen yet,
            // so only the sum of the two is promised. A record the first reading ended inside will never
            // be completed once the file is read again: one bad record more.
            let cutBefore = first.heldAtEnd > 0 ? 1 : 0
            try require(
                added(\.records) == first.records && added(\.samples) == first.samples
                    && added(\.missingValues) == first.missingValues
                    && added(\.badLines) + added(\.ignoredLines)
                        == first.badLines + first.ignoredLines + cutBefore
                    && again.statistics.heldAtEnd == first.heldAtEnd,
                "restart() then the same bytes counted differently:\n  first: \(whole)\n  again: \(again)")
        case .recognisesWhatWasRead:
            try require(
                again.samples.isEmpty && added(\.records) == 0 && added(\.samples) == 0
                    && added(\.missingValues) == 0,
                "restart() then the same bytes gave records already read:\n  first: \(whole)\n  again: \(again)"
            )
        }
    }

    /// Where to cut an input: between every two bytes (with an empty first piece) when it is short enough
    /// to afford it, and at a few sets of offsets drawn from the input's own hash, so that a fuzzer that
    /// mutates the input also moves the cuts.
    static func cutPlans(_ input: [UInt8]) -> [[Int]] {
        var plans: [[Int]] = []
        if input.count <= 512 { plans.append(Array(0..<input.count)) }
        var generator = SeededGenerator(seed: fnv1a(input))
        for pieces in [2, 3, 5] {
            plans.append(
                (1..<pieces).map { _ in Int.random(in: 0...input.count, using: &generator) }.sorted())
        }
        return plans
    }

    private static func describe(_ cuts: [Int]) -> String {
        cuts.count > 8 ? "every byte" : "\(cuts)"
    }
}

/// FNV-1a: a stable hash of the input, to draw input-derived choices from.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return hash
}
