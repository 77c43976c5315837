/// Reads TensorBoard event files (`events.out.tfevents.*`), as TensorBoard, tensorboardX, PyTorch, TRL,
/// OpenRLHF, stable-baselines3 and veRL write them.
///
/// A file is a sequence of TFRecords, all little-endian:
/// `u64 length | u32 masked CRC-32C of those 8 bytes | data | u32 masked CRC-32C of the data`,
/// each data an `Event` protobuf (see ``TensorBoardEventDecoder``).
///
/// Both CRCs are checked. A record whose data CRC fails is skipped and counted; its length, protected by
/// its own CRC, still says where the next record starts. When the length CRC fails the length cannot be
/// trusted, so the reader counts one bad record and resynchronises: it scans forward, byte by byte, for the
/// next position whose 12-byte header verifies (a false match has a chance of 2⁻³² per position).
///
/// A record only partly written when the bytes run out is held until the rest arrives; ``finish(emit:)``
/// says one the file ends inside as still being written (a bad record once another file follows). A run's
/// several event files are read one after another with `finish` between them, which starts the next file's
/// framing afresh; the chosen tag carries on.
///
/// The KL tag is the best alias among the tags of the first step that has any (``firstStep``), as in a JSON
/// Lines record: a writer logs a step's scalars one event each, in its own order (veRL puts `actor/ppo_kl`
/// before `actor/kl_loss`), so the first alias seen is not the one to keep.
public struct TensorBoardEventReader: SampleReader {
    /// Records longer than this are skipped without being held in memory: a scalar event is under 200
    /// bytes; only images or graphs come near it.
    public static let defaultMaxRecordBytes = 64 << 20
    static let headerBytes = 12
    static let footerBytes = 4

    public let maxRecordBytes: Int
    public private(set) var statistics = ReadStatistics()
    private var decoder: TensorBoardEventDecoder
    /// Bytes of a record not yet complete (or, while resynchronising, the last few bytes not yet scanned).
    private var held: [UInt8] = []
    private var mode = Mode.framed
    /// Offset in the current file of the first byte not yet consumed: of `held[0]` when bytes are held.
    private var offset = 0
    /// Records begun in the current file, for messages.
    private var recordNumber = 0
    /// While no tag is chosen: the best KL candidate of the first step with one, held until an event of
    /// another step (or the end of the stream, or a quiet writer) shows that step is over.
    private var firstStep:
        (step: Int64, rank: Int, key: String, records: [(outcome: RecordOutcome, line: BadLineLocation)])?

    private struct BadLineLocation {
        var number: Int
        var offset: Int
    }

    private enum Mode: Equatable {
        /// At a record boundary, or inside a record whose header verified.
        case framed
        /// After a header that did not verify: looking for the next one that does.
        case resynchronising
        /// Inside a record too long to hold: this many bytes are still to be dropped.
        case skipping(UInt64)
    }

    public init(metric: MetricSelection = .automatic, maxRecordBytes: Int = Self.defaultMaxRecordBytes) {
        decoder = TensorBoardEventDecoder(selection: metric)
        self.maxRecordBytes = maxRecordBytes
    }

    public var metricKey: String? { decoder.matcher.chosenKey }

    /// Bytes held back: a record not yet complete, or the first step's candidate (counted as one byte, so
    /// that a writer gone quiet after one step gets it taken: ``takeHeldRecordIfComplete(emit:)``).
    public var heldByteCount: Int { held.count + (firstStep == nil ? 0 : 1) }

    public mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void) {
        settleFirstStep(emit)
    }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        if !chunk.isEmpty { statistics.endHeldRecordAsBad() }
        statistics.bytes += chunk.count
        var rest = chunk
        // Complete what is held with as few bytes as it needs, then read the rest of the chunk in place.
        while !held.isEmpty && !rest.isEmpty {
            let wanted = mode == .framed ? max(1, bytesToCompleteHeldRecord()) : rest.count
            let taken = min(wanted, rest.count)
            held.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<taken]))
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            let used = held.withUnsafeBytes { process($0, emit) }
            held.removeFirst(used)
            offset += used
        }
        if held.isEmpty && !rest.isEmpty {
            let used = process(rest, emit)
            offset += used
            held.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[used...]))
        }
    }

    /// The end of one event file: a record it ends inside is held as still being written
    /// (``ReadStatistics/heldAtEnd``), not counted: writers buffer their output and flush it when the buffer
    /// fills, so a live file may end anywhere. Once another file follows, it is a bad record. The next
    /// bytes are the start of another file.
    public mutating func finish(emit: (MetricSample) -> Void) {
        settleFirstStep(emit)
        if mode == .framed && !held.isEmpty {
            let reason =
                held.count < Self.headerBytes
                ? "truncated record: \(held.count) of the 12 header bytes"
                : "truncated record: \(held.count) of \(Self.headerBytes + Self.footerBytes + Int(heldLength)) bytes"
            statistics.holdAtEnd(
                BadLine(lineNumber: recordNumber + 1, reason: reason, byteOffset: offset), bytes: held.count)
        }
        startNewFile()
    }

    /// The file was truncated or replaced: event files are append-only, so everything read from now on is
    /// new. A held partial record is dropped; the chosen tag carries on.
    public mutating func restart() {
        statistics.endHeldRecordAsBad()
        // The first step's held events are in the file read again: held, they would be given twice.
        firstStep = nil
        startNewFile()
    }

    private mutating func startNewFile() {
        held.removeAll()
        mode = .framed
        offset = 0
        recordNumber = 0
    }

    /// The length in the header of the held record (whose header verified).
    private var heldLength: UInt64 {
        held.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    private func bytesToCompleteHeldRecord() -> Int {
        if held.count < Self.headerBytes { return Self.headerBytes - held.count }
        return Self.headerBytes + Self.footerBytes + Int(heldLength) - held.count
    }

    /// Reads every complete record in `bytes`; returns how many bytes were used up. What is left is a
    /// partial record (or fewer than 12 bytes not yet scanned while resynchronising).
    private mutating func process(_ bytes: UnsafeRawBufferPointer, _ emit: (MetricSample) -> Void) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        var i = 0
        while i < count {
            switch mode {
            case .skipping(let remaining):
                let dropped = Int(min(remaining, UInt64(count - i)))
                i += dropped
                mode = remaining == UInt64(dropped) ? .framed : .skipping(remaining - UInt64(dropped))
            case .resynchronising:
                while count - i >= Self.headerBytes && !Self.headerVerifies(base + i) { i += 1 }
                guard count - i >= Self.headerBytes else { return i }
                mode = .framed
            case .framed:
                guard count - i >= Self.headerBytes else { return i }
                let start = base + i
                guard Self.headerVerifies(start) else {
                    recordNumber += 1
                    countBad(
                        "length CRC mismatch: the record's length cannot be trusted; skipped to the next valid record",
                        at: i)
                    mode = .resynchronising
                    i += 1
                    continue
                }
                let length = UInt64(littleEndian: start.loadUnaligned(as: UInt64.self))
                guard length <= UInt64(maxRecordBytes) else {
                    recordNumber += 1
                    countBad("record of \(length) bytes, longer than \(maxRecordBytes): skipped", at: i)
                    i += Self.headerBytes
                    mode = .skipping(length &+ UInt64(Self.footerBytes))
                    continue
                }
                let total = Self.headerBytes + Int(length) + Self.footerBytes
                guard count - i >= total else { return i }
                recordNumber += 1
                let data = UnsafeRawBufferPointer(start: start + Self.headerBytes, count: Int(length))
                let stored = UInt32(littleEndian: (start + total - 4).loadUnaligned(as: UInt32.self))
                if CRC32C.masked(data.baseAddress!, count: data.count) != stored {
                    countBad("data CRC mismatch: record skipped", at: i)
                } else {
                    admit(data, at: BadLineLocation(number: recordNumber, offset: offset + i), emit)
                }
                i += total
            }
        }
        return i
    }

    /// Events without the KL tag whose tags were listed in ``ReadStatistics/keysSeen``: a writer logs one
    /// scalar per event, so the first steps' worth say what the log holds; listing all would cost speed.
    private var eventsListed = 0
    private static let eventsToList = 96

    /// Counts one event's outcome and emits its sample, choosing the KL tag first if it is still to be
    /// chosen (see ``firstStep``).
    private mutating func admit(
        _ data: UnsafeRawBufferPointer, at location: BadLineLocation, _ emit: (MetricSample) -> Void
    ) {
        var decoded = decoder.decode(data)
        if case .noMetric = decoded.outcome, eventsListed < Self.eventsToList {
            eventsListed += 1
            for tag in TensorBoardEventDecoder.tags(data) where !statistics.keysSeen.contains(tag) {
                statistics.keysSeen.append(tag)
            }
        }
        if decoder.matcher.isChoosing, let rank = decoded.candidateRank {
            if var held = firstStep, held.step == decoded.step {
                // Same step: the better candidate is kept (all its records, if the writer logged it more
                // than once); the others are records without the KL tag.
                if rank < held.rank {
                    for record in held.records { count(.noMetric, at: record.line, emit) }
                    firstStep = (
                        decoded.step, rank, decoded.candidateTag ?? "", [(decoded.outcome, location)]
                    )
                } else if rank == held.rank {
                    held.records.append((decoded.outcome, location))
                    firstStep = held
                } else {
                    count(.noMetric, at: location, emit)
                }
                return
            }
            if firstStep == nil {
                firstStep = (decoded.step, rank, decoded.candidateTag ?? "", [(decoded.outcome, location)])
                return
            }
            // Another step: the first is over, its best tag chosen; this event is read again under it.
            settleFirstStep(emit)
            decoded = decoder.decode(data)
        }
        count(decoded.outcome, at: location, emit)
    }

    /// Chooses the first step's best tag and counts its held records.
    private mutating func settleFirstStep(_ emit: (MetricSample) -> Void) {
        guard let held = firstStep else { return }
        firstStep = nil
        decoder.matcher.choose(rank: held.rank, key: held.key)
        for record in held.records { count(record.outcome, at: record.line, emit) }
    }

    private mutating func count(
        _ outcome: RecordOutcome, at location: BadLineLocation, _ emit: (MetricSample) -> Void
    ) {
        if let sample = statistics.count(
            outcome,
            badLine: { BadLine(lineNumber: location.number, reason: $0, byteOffset: location.offset) })
        {
            emit(sample)
        }
    }

    private mutating func countBad(_ reason: String, at index: Int) {
        statistics.countBadLine(BadLine(lineNumber: recordNumber, reason: reason, byteOffset: offset + index))
    }

    /// Whether the 12 bytes at `header` are a length followed by its masked CRC.
    @inline(__always)
    static func headerVerifies(_ header: UnsafeRawPointer) -> Bool {
        CRC32C.masked(header, count: 8) == UInt32(littleEndian: (header + 8).loadUnaligned(as: UInt32.self))
    }
}
