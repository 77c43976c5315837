/// Writes TensorBoard event files byte by byte, for tests and the benchmark: TFRecord framing with its
/// masked CRC-32C, and the few Event protobuf fields scalars use.
///
/// The CRC here is the plain byte-at-a-time table algorithm, independent of the slicing-by-8 one kltop
/// reads with, so that each checks the other.
public enum TFRecordEncoding {
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0x82F6_3B78 : 0) }
        return crc
    }

    public static func crc32c<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = (crc >> 8) ^ table[Int((crc ^ UInt32(byte)) & 0xFF)] }
        return ~crc
    }

    public static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }

    public static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// One framed record around `data`.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(masked(crc32c(length))) + data + littleEndian(masked(crc32c(data)))
    }

    public static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    public static func varintField(_ number: Int, _ value: UInt64) -> [UInt8] {
        varint(UInt64(number << 3)) + varint(value)
    }

    public static func fixed32Field(_ number: Int, _ bits: UInt32) -> [UInt8] {
        varint(UInt64(number << 3 | 5)) + littleEndian(bits)
    }

    public static func fixed64Field(_ number: Int, _ bits: UInt64) -> [UInt8] {
        varint(UInt64(number << 3 | 1)) + littleEndian(bits)
    }

    public static func bytesField(_ number: Int, _ bytes: [UInt8]) -> [UInt8] {
        varint(UInt64(number << 3 | 2)) + varint(UInt64(bytes.count)) + bytes
    }

    /// `Event{wall_time, file_version: "brain.Event:2"}`, every file's first record.
    public static func fileVersionEvent(wallTime: Double = 1_700_000_000) -> [UInt8] {
        fixed64Field(1, wallTime.bitPattern) + bytesField(3, Array("brain.Event:2".utf8))
    }

    /// An Event with one Summary.Value; `value` is its contents after the tag (simple_value or tensor).
    /// Step 0 is left off the wire, as proto3 writers do.
    public static func event(step: Int64, wallTime: Double = 1_700_000_000, tag: String, value: [UInt8])
        -> [UInt8]
    {
        let summaryValue = bytesField(1, Array(tag.utf8)) + value
        return fixed64Field(1, wallTime.bitPattern)
            + (step == 0 ? [] : varintField(2, UInt64(bitPattern: step)))
            + bytesField(5, bytesField(1, summaryValue))
    }

    /// Summary.Value's `simple_value` (float32).
    public static func simpleValue(_ value: Float) -> [UInt8] { fixed32Field(2, value.bitPattern) }

    /// Summary.Value's `tensor` with the given TensorProto fields.
    public static func tensor(_ fields: [UInt8]) -> [UInt8] { bytesField(8, fields) }

    /// A whole event file: the version record, then `scalars` (step, tag, value) as simple values.
    public static func file(scalars: [(step: Int64, tag: String, value: Float)]) -> [UInt8] {
        var bytes = record(fileVersionEvent())
        for scalar in scalars {
            bytes += record(event(step: scalar.step, tag: scalar.tag, value: simpleValue(scalar.value)))
        }
        return bytes
    }
}
