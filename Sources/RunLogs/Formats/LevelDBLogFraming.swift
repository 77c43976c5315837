/// The framing of LevelDB's log format, as W&B's transaction logs (`.wandb`) and SwanLab's run files
/// (`.swanlab`, whose writer was copied from W&B's) use it, with another checksum than LevelDB's:
/// - a 7-byte header at the start of the first block: a 4-byte identifier, a 16-bit magic number
///   little-endian and a version byte (``LevelDBLogRecords/fileHeader``);
/// - 32 KiB blocks of chunks, `u32 crc | u16 length | u8 type | payload`, all little-endian; type 1 is a
///   whole record, 2, 3 and 4 its first, middle and last parts. A chunk never crosses a block boundary:
///   fewer than 7 bytes left in a block are padding, and an all-zero chunk header ends the block.
/// - The CRC is plain CRC-32 (IEEE, zlib's) over the type byte then the payload, not LevelDB's masked
///   CRC-32C: every chunk of files written by wandb 0.31.0 and swanlab 0.10.3 verifies that way.
///
/// A chunk whose CRC fails, or whose header cannot be right (an unknown type, a length past the block's
/// end), makes one bad record, and reading resynchronises at the next block, where the parts of the
/// damaged record that are left are skipped, as LevelDB's reader does. A record whose protobuf is
/// malformed is one bad record too, and reading goes on with the next.
///
/// Both writers keep what they have not written yet in memory (wandb-core the block it is filling,
/// swanlab Python's file buffer), so a live file often ends inside a record: that record is held
/// (``heldByteCount``) until the rest is written, and at the end of the file is said as still being written
/// (``ReadStatistics/heldAtEnd``), not counted as bad, unless the run is over.
/// Each whole record goes to `Records`, which decodes it.
struct LevelDBLogFraming<Records: LevelDBLogRecords>: Sendable {
    let maxRecordBytes: Int
    private(set) var statistics = ReadStatistics()
    private(set) var records: Records
    /// Bytes of a chunk not yet complete.
    private var held: [UInt8] = []
    /// The first and middle parts of a record whose last part is still to come.
    private var parts: [UInt8] = []
    private var state = State.fileHeader
    /// Offset in the current file of the first byte not yet consumed: of `held[0]` when bytes are held.
    private var position = 0
    /// Records begun in the current file, for messages, and where the one being assembled began.
    private var recordNumber = 0
    private var recordStart = 0

    private enum State: Equatable {
        /// At the start of a file: its 7-byte header comes first.
        case fileHeader
        /// Between records.
        case betweenRecords
        /// Inside a record whose first part was read: its parts are in `parts`.
        case inRecord
        /// Inside a record longer than ``maxRecordBytes``: its parts are dropped until the last.
        case skippingLongRecord
        /// After a bad chunk: the rest of the block is skipped, then parts of records whose start was lost.
        case resynchronising(atOffset: Int)
        /// After resynchronising: middle and last parts are of the damaged record, skipped.
        case awaitingFirstPart
    }

    init(records: Records, maxRecordBytes: Int) {
        self.records = records
        self.maxRecordBytes = maxRecordBytes
    }

    /// A partial chunk, the parts read of a record not yet complete, and what `Records` holds back.
    var heldByteCount: Int { held.count + parts.count + records.heldRecords }

    /// The writer went quiet: `Records` may give up what it held back to see more records first.
    mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void) {
        records.settle(statistics: &statistics, emit: emit)
    }

    mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        if !chunk.isEmpty { statistics.endHeldRecordAsBad() }
        statistics.bytes += chunk.count
        var rest = chunk
        // Complete what is held with as few bytes as it needs, then read the rest of the chunk in place.
        while !held.isEmpty && !rest.isEmpty {
            let taken = min(max(1, bytesToCompleteHeld()), rest.count)
            held.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<taken]))
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            let used = held.withUnsafeBytes { process($0, emit) }
            held.removeFirst(used)
        }
        if held.isEmpty && !rest.isEmpty {
            let used = process(rest, emit)
            held.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[used...]))
        }
    }

    /// The end of one file. A chunk or a record the file ends inside is held as still being written
    /// (``ReadStatistics/heldAtEnd``), not counted: both writers leave a live file so (see above). It is a
    /// bad record if the run had finished, or once another file follows. A record already counted as too
    /// long is not counted again. The next bytes are the start of another file.
    mutating func finish(emit: (MetricSample) -> Void) {
        records.settle(statistics: &statistics, emit: emit)
        let heldIsRecordStart =
            held.count < LevelDBLog.chunkHeaderBytes || held[6] == LevelDBLog.ChunkType.full
            || held[6] == LevelDBLog.ChunkType.first
        let partsAreSkipped = state == .awaitingFirstPart || state == .skippingLongRecord
        let cut = state == .inRecord || (!held.isEmpty && (!partsAreSkipped || heldIsRecordStart))
        if cut {
            if state == .fileHeader {
                statistics.holdAtEnd(
                    badLine("cut short: \(held.count) of the 7 header bytes", at: position), bytes: held.count
                )
            } else {
                let isNewRecord = state != .inRecord
                let start = isNewRecord ? position : recordStart
                if isNewRecord { recordNumber += 1 }
                let bytes = held.count + parts.count
                statistics.holdAtEnd(
                    badLine("record cut short: the file ends \(bytes) bytes into it", at: start), bytes: bytes
                )
            }
        }
        startNewFile()
    }

    /// The file was truncated or replaced: these logs are append-only, so everything read from now on is
    /// new. A held partial record is dropped; the chosen key and the run's name carry on.
    mutating func restart() {
        statistics.endHeldRecordAsBad()
        startNewFile()
        records.restart()
    }

    private mutating func startNewFile() {
        held.removeAll()
        parts.removeAll()
        state = .fileHeader
        position = 0
        recordNumber = 0
    }

    /// Bytes the held chunk still needs: its header's, then its payload's (a header is only held once it
    /// was found possible: its length fits in the block).
    private func bytesToCompleteHeld() -> Int {
        if state == .fileHeader { return LevelDBLog.fileHeaderBytes - held.count }
        if held.count < LevelDBLog.chunkHeaderBytes { return LevelDBLog.chunkHeaderBytes - held.count }
        let length = Int(held[4]) | Int(held[5]) << 8
        return LevelDBLog.chunkHeaderBytes + length - held.count
    }

    /// Reads every complete chunk in `bytes`, which start at ``position``; returns how many bytes were
    /// used up (and moves ``position`` past them). What is left is a partial chunk.
    private mutating func process(_ bytes: UnsafeRawBufferPointer, _ emit: (MetricSample) -> Void) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        var i = 0
        defer { position += i }
        while i < count {
            let offset = position + i
            if case .resynchronising(let target) = state {
                let skipped = min(target - offset, count - i)
                i += skipped
                if offset + skipped == target { state = .awaitingFirstPart }
                continue
            }
            if state == .fileHeader {
                guard count - i >= LevelDBLog.fileHeaderBytes else { return i }
                if !UnsafeRawBufferPointer(start: base + i, count: LevelDBLog.fileHeaderBytes).elementsEqual(
                    Records.fileHeader)
                {
                    // Another version, or not such a file at all: the framing after it will tell.
                    recordNumber += 1
                    countBad("not the header of \(Records.headerDescription)", at: offset)
                }
                state = .betweenRecords
                i += LevelDBLog.fileHeaderBytes
                continue
            }
            let leftInBlock = LevelDBLog.blockSize - offset % LevelDBLog.blockSize
            if leftInBlock < LevelDBLog.chunkHeaderBytes {
                // Padding: skipped as it arrives, never held.
                i += min(leftInBlock, count - i)
                continue
            }
            guard count - i >= LevelDBLog.chunkHeaderBytes else { return i }
            let header = base + i
            let crc = UInt32(littleEndian: header.loadUnaligned(as: UInt32.self))
            let length = Int(UInt16(littleEndian: (header + 4).loadUnaligned(as: UInt16.self)))
            let type = header.load(fromByteOffset: 6, as: UInt8.self)
            if crc == 0 && length == 0 && type == 0 {
                // The rest of the block is zero (LevelDB writers that preallocate leave it so): skipped, and
                // a record it cut short counted.
                if state == .inRecord || state == .skippingLongRecord {
                    countBad("record cut short by a zeroed block", at: recordStart)
                }
                parts.removeAll()
                state = .resynchronising(atOffset: offset + leftInBlock)
                continue
            }
            guard (LevelDBLog.ChunkType.full...LevelDBLog.ChunkType.last).contains(type),
                length <= leftInBlock - LevelDBLog.chunkHeaderBytes
            else {
                badChunk("chunk header of type \(type), \(length) bytes: not a chunk", at: offset)
                continue
            }
            let total = LevelDBLog.chunkHeaderBytes + length
            guard count - i >= total else { return i }
            let payload = UnsafeRawBufferPointer(start: header + LevelDBLog.chunkHeaderBytes, count: length)
            // Over the type byte and the payload, which follow each other.
            if CRC32.checksum(header + 6, count: length + 1) != crc {
                badChunk("CRC mismatch: skipped to the next block", at: offset)
                continue
            }
            i += total
            take(type, payload, at: offset, emit)
        }
        return i
    }

    /// One verified chunk: a whole record is read at once, parts are gathered until the last.
    private mutating func take(
        _ type: UInt8, _ payload: UnsafeRawBufferPointer, at offset: Int, _ emit: (MetricSample) -> Void
    ) {
        switch type {
        case LevelDBLog.ChunkType.full, LevelDBLog.ChunkType.first:
            if state == .inRecord || state == .skippingLongRecord {
                countBad("record cut short: its last part never came", at: recordStart)
                parts.removeAll()
            }
            recordNumber += 1
            recordStart = offset
            if type == LevelDBLog.ChunkType.full {
                state = .betweenRecords
                admit(payload, emit)
            } else {
                state = .inRecord
                gather(payload)
            }
        default:
            switch state {
            case .inRecord, .skippingLongRecord:
                gather(payload)
                if type == LevelDBLog.ChunkType.last {
                    let wasSkipped = state == .skippingLongRecord
                    state = .betweenRecords
                    if !wasSkipped { parts.withUnsafeBytes { admit($0, emit) } }
                    parts.removeAll(keepingCapacity: parts.count <= LevelDBLog.blockSize * 4)
                }
            case .awaitingFirstPart:
                // The rest of a record damaged before the resynchronisation: counted with it.
                break
            default:
                recordNumber += 1
                countBad(
                    "a record's \(type == LevelDBLog.ChunkType.last ? "last" : "middle") part without its first",
                    at: offset)
            }
        }
    }

    private mutating func gather(_ payload: UnsafeRawBufferPointer) {
        guard state == .inRecord else { return }
        if parts.count + payload.count > maxRecordBytes {
            countBad("record longer than \(maxRecordBytes) bytes: skipped", at: recordStart)
            parts.removeAll()
            state = .skippingLongRecord
            return
        }
        parts.append(contentsOf: payload)
    }

    /// Counts one damaged chunk as a bad record (the record it was part of, if one was begun) and skips
    /// to the next block.
    private mutating func badChunk(_ reason: String, at offset: Int) {
        if state != .inRecord && state != .skippingLongRecord { recordNumber += 1 }
        countBad(reason, at: state == .inRecord || state == .skippingLongRecord ? recordStart : offset)
        parts.removeAll()
        state = .resynchronising(atOffset: (offset / LevelDBLog.blockSize + 1) * LevelDBLog.blockSize)
    }

    /// Hands one whole record to `Records`, which counts its outcome.
    private mutating func admit(_ payload: UnsafeRawBufferPointer, _ emit: (MetricSample) -> Void) {
        records.admit(
            payload, location: RecordLocation(number: recordNumber, offset: recordStart),
            statistics: &statistics, emit: emit)
    }

    private mutating func countBad(_ reason: String, at offset: Int) {
        statistics.countBadLine(badLine(reason, at: offset))
    }

    private func badLine(_ reason: String, at offset: Int) -> BadLine {
        BadLine(lineNumber: max(recordNumber, 1), reason: reason, byteOffset: offset)
    }

    /// Whether `bytes` start like a file of this kind: its identifier and magic (any version).
    static func headerMatches(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.count >= 6 && bytes.prefix(6).elementsEqual(Records.fileHeader.prefix(6))
    }
}

/// The sizes of LevelDB's log format.
enum LevelDBLog {
    static let blockSize = 32 * 1024
    static let chunkHeaderBytes = 7
    static let fileHeaderBytes = 7
    /// Records longer than this are skipped without being held in memory: a metrics record is a few
    /// hundred bytes; only large configs, files or media records come near it.
    static let defaultMaxRecordBytes = 64 << 20

    enum ChunkType {
        static let full: UInt8 = 1
        static let first: UInt8 = 2
        static let middle: UInt8 = 3
        static let last: UInt8 = 4
    }
}

/// Where a record is, for the message that reports it bad: its number in the file and the offset of its
/// first chunk.
struct RecordLocation {
    var number: Int
    var offset: Int

    func badLine(_ reason: String) -> BadLine {
        BadLine(lineNumber: number, reason: reason, byteOffset: offset)
    }
}

/// The records of one kind of LevelDB-framed log: decodes each whole record and counts its outcome.
protocol LevelDBLogRecords: Sendable {
    /// The 7 bytes a file starts with: identifier, magic, version.
    static var fileHeader: [UInt8] { get }
    /// What the header says, for the message when it is not there: "a W&B transaction log (...)".
    static var headerDescription: String { get }
    /// Records held back, not yet counted (the first step's, while the KL key is chosen).
    var heldRecords: Int { get }
    /// Decodes one whole record, counts it in `statistics` and emits its sample, if it holds one.
    mutating func admit(
        _ payload: UnsafeRawBufferPointer, location: RecordLocation, statistics: inout ReadStatistics,
        emit: (MetricSample) -> Void)
    /// The stream ended or the writer went quiet: counts and emits what was held back.
    mutating func settle(statistics: inout ReadStatistics, emit: (MetricSample) -> Void)
    /// The file is read again from its start: what was held back is dropped, as it will be read again.
    mutating func restart()
}

extension LevelDBLogRecords {
    var heldRecords: Int { 0 }
    mutating func settle(statistics: inout ReadStatistics, emit: (MetricSample) -> Void) {}
    mutating func restart() {}
}
