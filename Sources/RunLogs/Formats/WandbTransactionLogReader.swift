/// Reads Weights & Biases run files, `wandb/run-<date>_<time>-<id>/run-<id>.wandb` (`offline-run-…` for
/// offline runs): the transaction log wandb-core writes for every run, online or offline.
///
/// The framing is LevelDB's log format with another checksum (wandb-core's `core/pkg/leveldb`), read by
/// ``LevelDBLogFraming``: a 7-byte header, `:W&B`, the magic 0xBEE1 little-endian, version 0, then 32 KiB
/// blocks of chunks whose CRC is plain CRC-32 (every chunk of files written by wandb 0.31.0 verifies that
/// way, `check_wandb.py`).
///
/// Each record is a `wandb_internal.Record` protobuf (``WandbRecordDecoder``). History records give the
/// samples; the run record gives the run's name (``runName``).
///
/// wandb-core keeps the block it is filling in memory and writes it when it is full, on a flush (every
/// 15 s by default) or at close, so a live file grows a block at a time and often ends inside a record:
/// that record is held (``heldByteCount``) until the rest is written. Read to its end, such a file's last
/// record is said as still being written (``ReadStatistics/heldAtEnd``), not counted as bad, unless the
/// exit record came before it.
public struct WandbTransactionLogReader: SampleReader {
    /// Records longer than this are skipped without being held in memory: a history record is a few
    /// hundred bytes; only large configs, files or media records come near it.
    public static let defaultMaxRecordBytes = LevelDBLog.defaultMaxRecordBytes

    private var framing: LevelDBLogFraming<WandbRecords>

    public init(metric: MetricSelection = .automatic, maxRecordBytes: Int = Self.defaultMaxRecordBytes) {
        framing = LevelDBLogFraming(
            records: WandbRecords(decoder: WandbRecordDecoder(selection: metric)),
            maxRecordBytes: maxRecordBytes)
    }

    public var maxRecordBytes: Int { framing.maxRecordBytes }
    public var statistics: ReadStatistics { framing.statistics }
    public var metricKey: String? { framing.records.decoder.matcher.chosenKey }

    /// The W&B run's display name, from the run record; its id when it has none. Nil until the run record
    /// is read.
    public var runName: String? { framing.records.decoder.runName }

    /// A partial chunk, and the parts read of a record not yet complete.
    public var heldByteCount: Int { framing.heldByteCount }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        framing.consume(chunk, emit: emit)
    }

    /// The end of one file: a chunk or a record it ends inside is said as still being written, or counted
    /// as cut short after the exit record. The next bytes are the start of another file.
    public mutating func finish(emit: (MetricSample) -> Void) { framing.finish(emit: emit) }

    /// The file was truncated or replaced: transaction logs are append-only, so everything read from now
    /// on is new. A held partial record is dropped; the chosen key and the run's name carry on.
    public mutating func restart() { framing.restart() }

    /// Whether `bytes` start like a W&B transaction log: its identifier and magic (any version).
    static func headerMatches(_ bytes: some Collection<UInt8>) -> Bool {
        LevelDBLogFraming<WandbRecords>.headerMatches(bytes)
    }
}

/// W&B's records: history records give the samples, the run record the run's name, the exit record says
/// the run is over.
struct WandbRecords: LevelDBLogRecords {
    /// `:W&B`, 0xBEE1 little-endian, version 0.
    static let fileHeader: [UInt8] = [0x3A, 0x57, 0x26, 0x42, 0xE1, 0xBE, 0x00]
    static let headerDescription = "a W&B transaction log (:W&B, 0xBEE1, version 0)"

    var decoder: WandbRecordDecoder
    /// History records read, for the step of one that carries none.
    private var historyRecords: Int64 = 0
    private var recordsListed = 0
    private static let recordsToList = 8

    init(decoder: WandbRecordDecoder) {
        self.decoder = decoder
    }

    mutating func admit(
        _ payload: UnsafeRawBufferPointer, location: RecordLocation, statistics: inout ReadStatistics,
        emit: (MetricSample) -> Void
    ) {
        // Keys are listed for the message on a log without KL (or without the `--metric` key).
        let listKeys = recordsListed < Self.recordsToList && statistics.samples == 0
        let outcome = decoder.decode(payload, ordinal: historyRecords, listingKeys: listKeys)
        if outcome.isHistory { historyRecords += 1 }
        if decoder.sawExit { statistics.runFinished = true }
        if listKeys, outcome.isHistory, case .noMetric = outcome.outcome {
            recordsListed += 1
            for key in decoder.keysOfLastRecord where !statistics.keysSeen.contains(key) {
                statistics.keysSeen.append(key)
            }
        }
        if let sample = statistics.count(outcome.outcome, badLine: location.badLine) { emit(sample) }
    }
}
