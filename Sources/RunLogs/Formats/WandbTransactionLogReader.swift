/// Reads Weights & Biases run files, `wandb/run-<date>_<time>-<id>/run-<id>.wandb` (`offline-run-…` for
/// offline runs): the transaction log wandb-core writes for every run, online or offline.
///
/// The framing is LevelDB's log format with another checksum (wandb-core's `core/pkg/leveldb`):
/// - a 7-byte header, `:W&B`, the magic 0xBEE1 little-endian, version 0, at the start of the first block;
/// - 32 KiB blocks of chunks, `u32 crc | u16 length | u8 type | payload`, all little-endian; type 1 is a
///   whole record, 2, 3 and 4 its first, middle and last parts. A chunk never crosses a block boundary:
///   fewer than 7 bytes left in a block are padding, and an all-zero chunk header ends the block.
/// - The CRC is plain CRC-32 (IEEE, zlib's) over the type byte then the payload, not LevelDB's masked
///   CRC-32C: every chunk of files written by wandb 0.31.0 verifies that way (`check_wandb.py`).
///
/// Each record is a `wandb_internal.Record` protobuf (``WandbRecordDecoder``). History records give the
/// samples; the run record gives the run's name (``runName``).
///
/// A chunk whose CRC fails, or whose header cannot be right (an unknown type, a length past the block's
/// end), makes one bad record, and reading resynchronises at the next block, where the parts of the
/// damaged record that are left are skipped, as LevelDB's reader does. A record whose protobuf is
/// malformed is one bad record too, and reading goes on with the next.
///
/// wandb-core keeps the block it is filling in memory and writes it when it is full, on a flush (every
/// 15 s by default) or at close, so a live file grows a block at a time and often ends inside a record:
/// that record is held (``heldByteCount``) until the rest is written, and counted as cut short only by
/// ``finish(emit:)``.
public struct WandbTransactionLogReader: SampleReader {
    static let blockSize = 32 * 1024
    static let chunkHeaderBytes = 7
    /// `:W&B`, 0xBEE1 little-endian, version 0.
    static let fileHeader: [UInt8] = [0x3A, 0x57, 0x26, 0x42, 0xE1, 0xBE, 0x00]
    static let fileHeaderBytes = 7
    /// Records longer than this are skipped without being held in memory: a history record is a few
    /// hundred bytes; only large configs, files or media records come near it.
    public static let defaultMaxRecordBytes = 64 << 20

    public let maxRecordBytes: Int
    public private(set) var statistics = ReadStatistics()
    private var decoder: WandbRecordDecoder
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
    /// History records read, for the step of one that carries none.
    private var historyRecords: Int64 = 0
    private var recordsListed = 0
    private static let recordsToList = 8

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

    private enum ChunkType {
        static let full: UInt8 = 1
        static let first: UInt8 = 2
        static let middle: UInt8 = 3
        static let last: UInt8 = 4
    }

    public init(metric: MetricSelection = .automatic, maxRecordBytes: Int = Self.defaultMaxRecordBytes) {
        decoder = WandbRecordDecoder(selection: metric)
        self.maxRecordBytes = maxRecordBytes
    }

    public var metricKey: String? { decoder.matcher.chosenKey }

    /// The W&B run's display name, from the run record; its id when it has none. Nil until the run record
    /// is read.
    public var runName: String? { decoder.runName }

    /// A partial chunk, and the parts read of a record not yet complete.
    public var heldByteCount: Int { held.count + parts.count }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
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

    /// The end of one file: a chunk or a record still incomplete is counted as cut short. The next bytes
    /// are the start of another file.
    public mutating func finish(emit: (MetricSample) -> Void) {
        let heldIsRecordStart =
            held.count < Self.chunkHeaderBytes || held[6] == ChunkType.full || held[6] == ChunkType.first
        let cut =
            state == .inRecord || state == .skippingLongRecord
            || (!held.isEmpty && (state != .awaitingFirstPart || heldIsRecordStart))
        if cut {
            if state == .fileHeader {
                countBad("cut short: \(held.count) of the 7 header bytes", at: position)
            } else {
                let isNewRecord = state != .inRecord && state != .skippingLongRecord
                let start = isNewRecord ? position : recordStart
                if isNewRecord { recordNumber += 1 }
                countBad(
                    "record cut short: the file ends \(held.count + parts.count) bytes into it", at: start)
            }
        }
        startNewFile()
    }

    /// The file was truncated or replaced: transaction logs are append-only, so everything read from now
    /// on is new. A held partial record is dropped; the chosen key and the run's name carry on.
    public mutating func restart() {
        startNewFile()
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
        if state == .fileHeader { return Self.fileHeaderBytes - held.count }
        if held.count < Self.chunkHeaderBytes { return Self.chunkHeaderBytes - held.count }
        let length = Int(held[4]) | Int(held[5]) << 8
        return Self.chunkHeaderBytes + length - held.count
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
                guard count - i >= Self.fileHeaderBytes else { return i }
                if !UnsafeRawBufferPointer(start: base + i, count: Self.fileHeaderBytes).elementsEqual(
                    Self.fileHeader)
                {
                    // Another version, or not a W&B file at all: the framing after it will tell.
                    recordNumber += 1
                    countBad("not the header of a W&B transaction log (:W&B, 0xBEE1, version 0)", at: offset)
                }
                state = .betweenRecords
                i += Self.fileHeaderBytes
                continue
            }
            let leftInBlock = Self.blockSize - offset % Self.blockSize
            if leftInBlock < Self.chunkHeaderBytes {
                // Padding: skipped as it arrives, never held.
                i += min(leftInBlock, count - i)
                continue
            }
            guard count - i >= Self.chunkHeaderBytes else { return i }
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
            guard (ChunkType.full...ChunkType.last).contains(type),
                length <= leftInBlock - Self.chunkHeaderBytes
            else {
                badChunk("chunk header of type \(type), \(length) bytes: not a chunk", at: offset)
                continue
            }
            let total = Self.chunkHeaderBytes + length
            guard count - i >= total else { return i }
            let payload = UnsafeRawBufferPointer(start: header + Self.chunkHeaderBytes, count: length)
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
        case ChunkType.full, ChunkType.first:
            if state == .inRecord || state == .skippingLongRecord {
                countBad("record cut short: its last part never came", at: recordStart)
                parts.removeAll()
            }
            recordNumber += 1
            recordStart = offset
            if type == ChunkType.full {
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
                if type == ChunkType.last {
                    let wasSkipped = state == .skippingLongRecord
                    state = .betweenRecords
                    if !wasSkipped { parts.withUnsafeBytes { admit($0, emit) } }
                    parts.removeAll(keepingCapacity: parts.count <= Self.blockSize * 4)
                }
            case .awaitingFirstPart:
                // The rest of a record damaged before the resynchronisation: counted with it.
                break
            default:
                recordNumber += 1
                countBad(
                    "a record's \(type == ChunkType.last ? "last" : "middle") part without its first",
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
        state = .resynchronising(atOffset: (offset / Self.blockSize + 1) * Self.blockSize)
    }

    /// Counts one record's outcome and emits its sample.
    private mutating func admit(_ payload: UnsafeRawBufferPointer, _ emit: (MetricSample) -> Void) {
        let listKeys = recordsListed < Self.recordsToList && decoder.matcher.isChoosing
        let outcome = decoder.decode(payload, ordinal: historyRecords, listingKeys: listKeys)
        if outcome.isHistory { historyRecords += 1 }
        if decoder.sawExit { statistics.runFinished = true }
        if listKeys, outcome.isHistory, case .noMetric = outcome.outcome {
            recordsListed += 1
            for key in decoder.keysOfLastRecord where !statistics.keysSeen.contains(key) {
                statistics.keysSeen.append(key)
            }
        }
        let number = recordNumber
        let start = recordStart
        if let sample = statistics.count(
            outcome.outcome, badLine: { BadLine(lineNumber: number, reason: $0, byteOffset: start) })
        {
            emit(sample)
        }
    }

    private mutating func countBad(_ reason: String, at offset: Int) {
        statistics.countBadLine(BadLine(lineNumber: max(recordNumber, 1), reason: reason, byteOffset: offset))
    }

    /// Whether `bytes` start like a W&B transaction log: its identifier and magic (any version).
    static func headerMatches(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.count >= 6 && bytes.prefix(6).elementsEqual(fileHeader.prefix(6))
    }
}
