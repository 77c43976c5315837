/// Writes SwanLab run files (`run-<id>.swanlab`) for tests and fuzzing: W&B's framing
/// (``WandbLogEncoding/Writer``) under SwanLab's header, and the few `swanlab.record.v1.Record` fields
/// start, scalar and finish records use.
public enum SwanlabLogEncoding {
    /// `:SWL`, 0xE1D6 little-endian, version 2.
    public static let header: [UInt8] = [0x3A, 0x53, 0x57, 0x4C, 0xD6, 0xE1, 0x02]

    public static func file(_ records: [[UInt8]]) -> [UInt8] {
        WandbLogEncoding.file(records, header: header)
    }

    /// `Record{start: StartRecord{name = 4, id = 10}}`.
    public static func start(name: String?, id: String) -> [UInt8] {
        WandbLogEncoding.field(
            10, (name.map { WandbLogEncoding.field(4, $0) } ?? []) + WandbLogEncoding.field(10, id))
    }

    /// `Record{scalar: ScalarRecord{key = 1, step = 2, value = 5 {number = 1}}}`, as proto3 writes it: a
    /// step of 0 and a value of +0.0 left out; no value message at all when `value` is nil.
    public static func scalar(_ key: String, step: Int64, _ value: Double?) -> [UInt8] {
        var scalar = WandbLogEncoding.field(1, key)
        if step != 0 { scalar += [0x10] + WandbLogEncoding.varint(UInt64(bitPattern: step)) }
        if let value {
            let number =
                value.bitPattern == 0
                ? [] : [0x09] + withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
            scalar += WandbLogEncoding.field(5, number)
        }
        return WandbLogEncoding.field(13, scalar)
    }

    /// `Record{finish: FinishRecord{state = RUN_STATE_FINISHED}}`.
    public static let finish: [UInt8] = WandbLogEncoding.field(11, [0x08, 0x01])
}
