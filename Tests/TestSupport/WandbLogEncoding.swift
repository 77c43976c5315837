/// Writes W&B transaction logs (`run-<id>.wandb`) byte by byte, for tests, fuzzing and the benchmark: the
/// LevelDB-style framing wandb-core's `core/pkg/leveldb` writer makes, and the few `wandb_internal.Record`
/// fields history and run records use.
///
/// The CRC-32 here is the plain byte-at-a-time table algorithm, independent of zlib's that kltop reads
/// with, so that each checks the other.
public enum WandbLogEncoding {
    public static let blockSize = 32 * 1024
    public static let header: [UInt8] = [0x3A, 0x57, 0x26, 0x42, 0xE1, 0xBE, 0x00]

    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        return crc
    }

    public static func crc32<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = (crc >> 8) ^ table[Int((crc ^ UInt32(byte)) & 0xFF)] }
        return ~crc
    }

    /// One chunk: `crc | length | type | payload`, the CRC over the type byte and the payload.
    public static func chunk(type: UInt8, _ payload: ArraySlice<UInt8>) -> [UInt8] {
        let crc = crc32([type] + payload)
        return withUnsafeBytes(of: crc.littleEndian, Array.init)
            + withUnsafeBytes(of: UInt16(payload.count).littleEndian, Array.init) + [type] + payload
    }

    /// A whole file: the header, then `records` cut into chunks at block boundaries, as wandb-core's
    /// writer cuts them (a block with fewer than 7 bytes left is padded with zeros).
    public static func file(_ records: [[UInt8]], header: [UInt8] = header) -> [UInt8] {
        var writer = Writer(header: header)
        for record in records { writer.append(record) }
        return writer.bytes
    }

    /// Appends records to a transaction log as wandb-core does (and to a SwanLab run file, given its
    /// header: swanlab's writer frames the same way).
    public struct Writer {
        public private(set) var bytes: [UInt8]

        public init(header: [UInt8] = WandbLogEncoding.header) {
            bytes = header
        }

        /// Goes on writing after a whole file's bytes.
        public init(continuing file: [UInt8]) {
            bytes = file
        }

        public mutating func append(_ record: [UInt8]) {
            var rest = record[...]
            var first = true
            repeat {
                var left = blockSize - bytes.count % blockSize
                if left < 7 {
                    bytes += [UInt8](repeating: 0, count: left)
                    left = blockSize
                }
                let taken = min(rest.count, left - 7)
                let last = taken == rest.count
                let type: UInt8 = first ? (last ? 1 : 2) : (last ? 4 : 3)
                bytes += chunk(type: type, rest.prefix(taken))
                rest = rest.dropFirst(taken)
                first = false
            } while !rest.isEmpty
        }
    }

    /// A whole file (a finished run's, its exit or finish record last) followed by the first half of one
    /// more record: damage, as nothing is written after a run's end.
    public static func withACutRecordAfterItsEnd(_ file: [UInt8]) -> [UInt8] {
        let record = [UInt8](repeating: 0x2A, count: 80)
        var writer = Writer(continuing: file)
        writer.append(record)
        return Array(writer.bytes.dropLast(record.count / 2))
    }

    /// The records of a transaction log whose framing is whole and right (a fixture): its payloads, in order.
    public static func records(of file: [UInt8]) -> [[UInt8]] {
        var records: [[UInt8]] = []
        var position = header.count
        var parts: [UInt8] = []
        while position + 7 <= file.count {
            let left = blockSize - position % blockSize
            if left < 7 {
                position += left
                continue
            }
            let length = Int(file[position + 4]) | Int(file[position + 5]) << 8
            let type = file[position + 6]
            if type == 0 {
                position += left
                continue
            }
            let payload = file[(position + 7)..<min(file.count, position + 7 + length)]
            parts += payload
            if type == 1 || type == 4 {
                records.append(parts)
                parts = []
            }
            position += 7 + length
        }
        return records
    }

    // MARK: - Protobuf

    public static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }

    public static func field(_ number: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(UInt64(bytes.count)) + bytes
    }

    public static func field(_ number: UInt64, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }

    /// A `HistoryItem`: the key as wandb-core writes it (`nested_key` parts, even for a flat key), or in
    /// `key` as older writers did.
    public static func item(_ parts: [String], json: String, flatKey: Bool = false) -> [UInt8] {
        (flatKey ? field(1, parts.joined(separator: "/")) : parts.flatMap { field(2, $0) }) + field(16, json)
    }

    /// A `Record{history}` with these items and, unless nil, a `HistoryStep{num}`.
    public static func history(_ items: [[UInt8]], step: Int64?) -> [UInt8] {
        var history = items.flatMap { field(1, $0) }
        // `num` = 1, a varint; proto3 leaves out a 0.
        if let step { history += field(2, step == 0 ? [] : [0x08] + varint(UInt64(bitPattern: step))) }
        return field(2, history)
    }

    /// A history record as wandb-core writes one for `wandb.log(metrics, step=step)`: the metrics, then
    /// `_timestamp`, `_runtime` and `_step`.
    public static func history(_ metrics: [(key: [String], json: String)], step: Int64) -> [UInt8] {
        let items =
            metrics.map { item($0.key, json: $0.json) } + [
                item(["_timestamp"], json: "1.796610686386566e+09"), item(["_runtime"], json: "0.343883292"),
                item(["_step"], json: "\(step)"),
            ]
        return history(items, step: step)
    }

    /// A `Record{run}` with a run id and, unless nil, a display name.
    public static func run(id: String, displayName: String?) -> [UInt8] {
        field(17, field(1, id) + (displayName.map { field(8, $0) } ?? []))
    }
}
