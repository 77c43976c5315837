/// Reads SwanLab run files, `swanlog/run-<date>_<time>-<id>/run-<id>.swanlab` (`$SWANLAB_LOGDIR`, else
/// `./swanlog`): what swanlab writes for every run, local, offline or online.
///
/// The framing is W&B's (swanlab's `core_python/store` was written after wandb-core's), read by
/// ``LevelDBLogFraming``: a 7-byte header, `:SWL`, the magic 0xE1D6 little-endian, version 2, then 32 KiB
/// blocks of chunks whose CRC is plain CRC-32 over the type byte and the payload (every chunk of files
/// written by swanlab 0.10.3 verifies that way). Each record is a `swanlab.record.v1.Record` protobuf
/// (``SwanlabRecordDecoder``): one scalar record per key and step, the run's experiment name in the start
/// record.
///
/// swanlab writes records through Python's buffered file and never flushes until the run finishes, so a
/// live file grows by the buffer's worth (8 KiB) and ends anywhere, inside a chunk's header as often as
/// inside its payload: the cut record is held until the rest comes.
///
/// A writer logs a step's keys one record each, in the order of the dict it was given (veRL's nested
/// `{"actor": {"ppo_kl": .., "kl_loss": ..}}` puts the update-size KL first), so the KL key is the best
/// alias among the keys of the first step that has any, as for TensorBoard: that step's candidates are
/// held until a candidate of another step (or the end of the stream, or a quiet writer) shows it is over.
public struct SwanlabRunFileReader: SampleReader {
    public static let defaultMaxRecordBytes = LevelDBLog.defaultMaxRecordBytes

    private var framing: LevelDBLogFraming<SwanlabRecords>

    public init(metric: MetricSelection = .automatic, maxRecordBytes: Int = Self.defaultMaxRecordBytes) {
        framing = LevelDBLogFraming(
            records: SwanlabRecords(decoder: SwanlabRecordDecoder(selection: metric)),
            maxRecordBytes: maxRecordBytes)
    }

    public var maxRecordBytes: Int { framing.maxRecordBytes }
    public var statistics: ReadStatistics { framing.statistics }
    public var metricKey: String? { framing.records.decoder.matcher.chosenKey }

    /// The experiment's name, as SwanLab shows it (`swanlab.init(experiment_name=...)`, else the name it
    /// made up); the run's id when the start record has no name. Nil until the start record is read.
    public var runName: String? { framing.records.decoder.runName }

    /// A partial chunk, the parts read of a record not yet complete, and the first step's candidates
    /// (counted as one byte, so that a writer gone quiet after one step gets them taken).
    public var heldByteCount: Int { framing.heldByteCount }

    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (MetricSample) -> Void) {
        framing.consume(chunk, emit: emit)
    }

    /// The end of one file: a chunk or a record it ends inside is said as still being written
    /// (``ReadStatistics/heldAtEnd``), unless the run finished before it; then it is a bad record.
    public mutating func finish(emit: (MetricSample) -> Void) { framing.finish(emit: emit) }

    /// The file was truncated or replaced: run files are append-only, so everything read from now on is new.
    public mutating func restart() { framing.restart() }

    public mutating func takeHeldRecordIfComplete(emit: (MetricSample) -> Void) {
        framing.takeHeldRecordIfComplete(emit: emit)
    }

    /// Whether `bytes` start like a SwanLab run file: its identifier and magic (any version).
    static func headerMatches(_ bytes: some Collection<UInt8>) -> Bool {
        LevelDBLogFraming<SwanlabRecords>.headerMatches(bytes)
    }
}

/// SwanLab's records: scalar records give the samples, the start record the run's name, the finish record
/// says the run is over.
struct SwanlabRecords: LevelDBLogRecords {
    /// `:SWL`, 0xE1D6 little-endian (zlib.crc32("SwanLab") & 0xFFFF), version 2.
    static let fileHeader: [UInt8] = [0x3A, 0x53, 0x57, 0x4C, 0xD6, 0xE1, 0x02]
    static let headerDescription = "a SwanLab run file (:SWL, 0xE1D6, version 2)"

    var decoder: SwanlabRecordDecoder
    /// While no key is chosen: the best KL candidate of the first step with one, and its records.
    private var firstStep:
        (step: Int64, rank: Int, key: String, records: [(outcome: RecordOutcome, at: RecordLocation)])?
    /// Scalar records without the KL key whose keys were listed in ``ReadStatistics/keysSeen``: one key per
    /// record, so the first steps' worth say what the log holds.
    private var recordsListed = 0
    private static let recordsToList = 96

    init(decoder: SwanlabRecordDecoder) {
        self.decoder = decoder
    }

    var heldRecords: Int { firstStep == nil ? 0 : 1 }

    mutating func admit(
        _ payload: UnsafeRawBufferPointer, location: RecordLocation, statistics: inout ReadStatistics,
        emit: (MetricSample) -> Void
    ) {
        // Keys are listed for the message on a log without KL (or without the `--metric` key).
        let listKeys = recordsListed < Self.recordsToList && statistics.samples == 0
        var decoded = decoder.decode(payload, listingKeys: listKeys)
        if decoder.sawFinish { statistics.runFinished = true }
        if let key = decoded.scalarKey {
            recordsListed += 1
            if !statistics.keysSeen.contains(key) { statistics.keysSeen.append(key) }
        }
        if decoder.matcher.isChoosing, let rank = decoded.candidateRank {
            if var held = firstStep, held.step == decoded.step {
                // Same step: the better candidate is kept (all its records, if it was logged more than
                // once); the others are records without the KL key.
                if rank < held.rank {
                    for record in held.records { count(.noMetric, at: record.at, &statistics, emit) }
                    firstStep = (
                        decoded.step, rank, decoded.candidateKey ?? "", [(decoded.outcome, location)]
                    )
                } else if rank == held.rank {
                    held.records.append((decoded.outcome, location))
                    firstStep = held
                } else {
                    count(.noMetric, at: location, &statistics, emit)
                }
                return
            }
            if firstStep == nil {
                firstStep = (decoded.step, rank, decoded.candidateKey ?? "", [(decoded.outcome, location)])
                return
            }
            // Another step: the first is over, its best key chosen; this record is read again under it.
            settle(statistics: &statistics, emit: emit)
            decoded = decoder.decode(payload)
        }
        count(decoded.outcome, at: location, &statistics, emit)
    }

    /// The first step's candidates are in the file read again: held, they would be given twice.
    mutating func restart() {
        firstStep = nil
    }

    /// Chooses the first step's best key and counts its held records.
    mutating func settle(statistics: inout ReadStatistics, emit: (MetricSample) -> Void) {
        guard let held = firstStep else { return }
        firstStep = nil
        decoder.matcher.choose(rank: held.rank, key: held.key)
        for record in held.records { count(record.outcome, at: record.at, &statistics, emit) }
    }

    private func count(
        _ outcome: RecordOutcome, at location: RecordLocation, _ statistics: inout ReadStatistics,
        _ emit: (MetricSample) -> Void
    ) {
        if let sample = statistics.count(outcome, badLine: location.badLine) { emit(sample) }
    }
}

/// Reads the step and the KL value out of one `swanlab.record.v1.Record` protobuf, and the run's name.
///
/// Only what is needed is decoded (field numbers from swanlab's `proto/swanlab/record/v1/record.proto`,
/// `run/v1/run.proto` and `metric/data/v1/data.proto`, as swanlab 0.10.3 ships them):
/// - Record: `start` = 10, `finish` = 11, `scalar` = 13; column, media, terminal log and save records are
///   records without the KL key.
/// - StartRecord: `name` = 4 (the experiment name), `id` = 10.
/// - ScalarRecord: `key` = 1 (nested dicts flattened with `/` by swanlab: `actor/kl_loss`), `step` = 2
///   (int64; absent on the wire when 0, proto3's default), `value` = 5 (`ScalarValue{number = 1}`, a
///   double; an empty ScalarValue is 0.0). Booleans and integers are logged as doubles; strings and
///   None are not logged at all.
struct SwanlabRecordDecoder: Sendable {
    var matcher: MetricKeyMatcher
    /// The experiment name of the start record, or the run's id when it has none.
    private(set) var runName: String?
    /// A finish record was read: the run is over (`swanlab.finish()`, or a crash it caught).
    private(set) var sawFinish = false

    init(selection: MetricSelection) {
        matcher = MetricKeyMatcher(selection: selection, nestedWithSlashes: true)
    }

    /// A record as read: its outcome under the KL key; for a scalar record under a KL candidate, the
    /// candidate's rank (while no key is chosen, nothing is chosen here: see ``SwanlabRecords``) and its
    /// step; for one under another key, that key, with `listingKeys`.
    struct Decoded {
        var outcome: RecordOutcome
        var candidateRank: Int?
        var step: Int64
        var scalarKey: String? = nil
        /// The key of ``candidateRank``, while no key is chosen.
        var candidateKey: String? = nil
    }

    mutating func decode(_ record: UnsafeRawBufferPointer, listingKeys: Bool = false) -> Decoded {
        var fields = ProtobufFields(record)
        var scalar: UnsafeRawBufferPointer?
        var start: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (10, .lengthDelimited(let bytes)): start = bytes
            case (11, .lengthDelimited): sawFinish = true
            case (13, .lengthDelimited(let bytes)): scalar = bytes
            default: continue
            }
        }
        if fields.isMalformed { return Self.bad("not a SwanLab Record protobuf") }
        if let start, !readRunName(start) { return Self.bad("malformed StartRecord") }
        guard let scalar else { return Decoded(outcome: .noMetric, candidateRank: nil, step: 0) }
        return readScalar(scalar, listingKeys: listingKeys)
    }

    private static func bad(_ reason: String) -> Decoded {
        Decoded(outcome: .bad(reason), candidateRank: nil, step: 0)
    }

    /// Takes the experiment name, else the id; false if the StartRecord is malformed.
    private mutating func readRunName(_ start: UnsafeRawBufferPointer) -> Bool {
        var fields = ProtobufFields(start)
        var name: UnsafeRawBufferPointer?
        var id: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (4, .lengthDelimited(let bytes)): name = bytes
            case (10, .lengthDelimited(let bytes)): id = bytes
            default: continue
            }
        }
        if fields.isMalformed { return false }
        if let chosen = [name, id].compactMap({ $0 }).first(where: { !$0.isEmpty }) {
            runName = String(decoding: chosen, as: UTF8.self)
        }
        return true
    }

    private func readScalar(_ scalar: UnsafeRawBufferPointer, listingKeys: Bool) -> Decoded {
        var fields = ProtobufFields(scalar)
        var key = UnsafeRawBufferPointer(start: nil, count: 0)
        var step: Int64 = 0
        var valueMessage: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .lengthDelimited(let bytes)): key = bytes
            case (2, .varint(let value)): step = Int64(bitPattern: value)
            case (5, .lengthDelimited(let bytes)): valueMessage = bytes
            default: continue
            }
        }
        if fields.isMalformed { return Self.bad("malformed ScalarRecord") }
        guard let rank = matcher.rank(key) else {
            let listed = listingKeys ? String(decoding: key, as: UTF8.self) : nil
            return Decoded(outcome: .noMetric, candidateRank: nil, step: step, scalarKey: listed)
        }
        let candidateKey = matcher.isChoosing ? String(decoding: key, as: UTF8.self) : nil
        guard let valueMessage else {
            return Decoded(
                outcome: .missingValue, candidateRank: rank, step: step, candidateKey: candidateKey)
        }
        var valueFields = ProtobufFields(valueMessage)
        var number = 0.0
        var sawNumber = true
        while let field = valueFields.next() {
            if field.number == 1 {
                if case .fixed64(let bits) = field.value {
                    number = Double(bitPattern: bits)
                } else {
                    sawNumber = false
                }
            }
        }
        if valueFields.isMalformed { return Self.bad("malformed ScalarValue") }
        let outcome: RecordOutcome =
            sawNumber ? .sample(MetricSample(step: step, value: number)) : .missingValue
        return Decoded(outcome: outcome, candidateRank: rank, step: step, candidateKey: candidateKey)
    }
}
