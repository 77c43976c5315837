/// Reads the step and the KL value out of one `wandb_internal.Record` protobuf, and the run's name.
///
/// Only what is needed is decoded (field numbers from wandb/proto/wandb_internal.proto):
/// - Record: `history` = 2, `run` = 17; every other record (summary, config, telemetry, output, exit...)
///   is a record without the KL key.
/// - RunRecord: `run_id` = 1, `display_name` = 8.
/// - HistoryRecord: `item` = 1 (repeated), `step` = 2 (`HistoryStep{num = 1}`).
/// - HistoryItem: `key` = 1, `nested_key` = 2 (repeated), `value_json` = 16.
///
/// wandb-core fills `nested_key` even for a flat key (`["train/kl"]`); older writers fill `key`. A nested
/// dict (`{"actor": {"kl_loss": x}}`) has the parts `["actor", "kl_loss"]`, read joined with `/`
/// (`actor/kl_loss`, as veRL and ROLL name the key when they log flat). `value_json` is JSON with `NaN`,
/// `Infinity` and `-Infinity`. The step is the HistoryStep's; a record without one takes its `_step` item,
/// and one with neither its ordinal among history records.
struct WandbRecordDecoder: Sendable {
    var matcher: MetricKeyMatcher
    /// The display name of the last run record read, or its id when it has none.
    private(set) var runName: String?
    /// A nested key's parts joined, reused from item to item.
    private var joined: [UInt8] = []
    /// The keys of the last history record decoded with `listingKeys` (not the internal `_…` ones).
    private(set) var keysOfLastRecord: [String] = []

    init(selection: MetricSelection) {
        matcher = MetricKeyMatcher(selection: selection, nestedWithSlashes: true)
    }

    /// An exit record was read: the run is over (finished, not stale, when it goes quiet).
    private(set) var sawExit = false

    /// A record as read: its outcome under the KL key, and whether it was a history record.
    struct Decoded {
        var outcome: RecordOutcome
        var isHistory: Bool
    }

    /// Decodes a record; while no key is chosen, the best KL alias of the first history record holding one
    /// is chosen (a history record holds all of a step's keys: wandb merges the calls for one step).
    /// With `listingKeys`, a history record's keys are kept in ``keysOfLastRecord``.
    mutating func decode(_ record: UnsafeRawBufferPointer, ordinal: Int64, listingKeys: Bool) -> Decoded {
        var fields = ProtobufFields(record)
        var history: UnsafeRawBufferPointer?
        var run: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (2, .lengthDelimited(let bytes)): history = bytes
            case (17, .lengthDelimited(let bytes)): run = bytes
            // The exit record (`exit` = 18): wandb writes it when the run ends (`run.finish()`).
            case (18, .lengthDelimited): sawExit = true
            default: continue
            }
        }
        if fields.isMalformed { return Decoded(outcome: .bad("not a W&B Record protobuf"), isHistory: false) }
        if let run, !readRunName(run) {
            return Decoded(outcome: .bad("malformed RunRecord"), isHistory: false)
        }
        guard let history else { return Decoded(outcome: .noMetric, isHistory: false) }
        if listingKeys { keysOfLastRecord.removeAll() }
        return Decoded(
            outcome: readHistory(history, ordinal: ordinal, listingKeys: listingKeys), isHistory: true)
    }

    /// Takes the run's display name, else its id; false if the RunRecord is malformed.
    private mutating func readRunName(_ run: UnsafeRawBufferPointer) -> Bool {
        var fields = ProtobufFields(run)
        var id: UnsafeRawBufferPointer?
        var displayName: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .lengthDelimited(let bytes)): id = bytes
            case (8, .lengthDelimited(let bytes)): displayName = bytes
            default: continue
            }
        }
        if fields.isMalformed { return false }
        if let name = [displayName, id].compactMap({ $0 }).first(where: { !$0.isEmpty }) {
            runName = String(decoding: name, as: UTF8.self)
        }
        return true
    }

    private mutating func readHistory(
        _ history: UnsafeRawBufferPointer, ordinal: Int64, listingKeys: Bool
    ) -> RecordOutcome {
        var fields = ProtobufFields(history)
        var step: Int64?
        var stepItem: Int64?
        var bestRank = Int.max
        var bestKey: String?
        var bestValue: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .lengthDelimited(let item)):
                guard let (key, value) = readItem(item) else { return .bad("malformed HistoryItem") }
                let (rank, name) = key.withKey(joined) { bytes -> (Int?, String?) in
                    if bytes.count == 5 && bytes.elementsEqual("_step".utf8) {
                        stepItem = Self.integer(value)
                    }
                    let listed = listingKeys && bytes.first != UInt8(ascii: "_")
                    let rank = matcher.rank(bytes)
                    if let rank, rank < bestRank, matcher.isChoosing {
                        bestKey = String(decoding: bytes, as: UTF8.self)
                    }
                    return (rank, listed ? String(decoding: bytes, as: UTF8.self) : nil)
                }
                if let name { keysOfLastRecord.append(name) }
                if let rank, rank < bestRank {
                    bestRank = rank
                    bestValue = value
                }
            case (2, .lengthDelimited(let historyStep)):
                var stepFields = ProtobufFields(historyStep)
                step = 0
                while let inner = stepFields.next() {
                    if inner.number == 1, case .varint(let num) = inner.value {
                        step = Int64(bitPattern: num)
                    }
                }
                if stepFields.isMalformed { return .bad("malformed HistoryStep") }
            default:
                continue
            }
        }
        if fields.isMalformed { return .bad("malformed HistoryRecord") }
        guard bestRank != .max else { return .noMetric }
        if let bestKey { matcher.choose(rank: bestRank, key: bestKey) }
        guard let value = bestValue.flatMap(Self.number) else { return .missingValue }
        return .sample(MetricSample(step: step ?? stepItem ?? ordinal, value: value))
    }

    /// Where an item's key is: its `key`, its one nested part, or (more than one part) in `joined`.
    private enum ItemKey {
        case bytes(UnsafeRawBufferPointer)
        case joined

        func withKey<T>(_ joined: [UInt8], _ body: (UnsafeRawBufferPointer) -> T) -> T {
            switch self {
            case .bytes(let bytes): body(bytes)
            case .joined: joined.withUnsafeBytes(body)
            }
        }
    }

    /// An item's key and `value_json` (empty when absent); nil if the item is malformed.
    private mutating func readItem(_ item: UnsafeRawBufferPointer) -> (ItemKey, UnsafeRawBufferPointer)? {
        var fields = ProtobufFields(item)
        var key = UnsafeRawBufferPointer(start: nil, count: 0)
        var firstPart: UnsafeRawBufferPointer?
        var parts = 0
        var value = UnsafeRawBufferPointer(start: nil, count: 0)
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .lengthDelimited(let bytes)):
                key = bytes
            case (2, .lengthDelimited(let bytes)):
                parts += 1
                if parts == 1 {
                    firstPart = bytes
                } else {
                    if parts == 2 {
                        joined.removeAll(keepingCapacity: true)
                        joined.append(contentsOf: firstPart!)
                    }
                    joined.append(UInt8(ascii: "/"))
                    joined.append(contentsOf: bytes)
                }
            case (16, .lengthDelimited(let bytes)):
                value = bytes
            default:
                continue
            }
        }
        if fields.isMalformed { return nil }
        switch parts {
        case 0: return (.bytes(key), value)
        case 1: return (.bytes(firstPart!), value)
        default: return (.joined, value)
        }
    }

    /// A `value_json` as a KL value: a number, `NaN`/`Infinity`/`-Infinity`, or a string holding a number;
    /// nil for null, booleans, other strings, objects (histograms, tables) and arrays.
    static func number(_ json: UnsafeRawBufferPointer) -> Double? {
        guard let base = json.baseAddress, !json.isEmpty else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        if p[0] == UInt8(ascii: "\"") && (json.count < 2 || p[json.count - 1] != UInt8(ascii: "\"")) {
            return nil
        }
        return JSONLineScanner.parseValue(p, 0..<json.count)
    }

    /// A `_step` value: a whole number, as wandb writes it (`12`); nil otherwise.
    static func integer(_ json: UnsafeRawBufferPointer) -> Int64? {
        guard let value = number(json), value.rounded() == value, abs(value) < 0x1p63 else { return nil }
        return Int64(value)
    }
}
