/// Walks the fields of one protocol-buffer message in wire format, without a protobuf library.
///
/// kltop needs a handful of fields of TensorBoard's Event message; a generated decoder would bring a
/// dependency and allocate a whole object tree per record. Anything malformed (a varint running past the
/// end, a length past the end, a deprecated group, an unknown wire type) stops the walk and sets
/// ``isMalformed``, so that a corrupt record is reported rather than half read.
struct ProtobufFields {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case lengthDelimited(UnsafeRawBufferPointer)
        case fixed32(UInt32)
    }

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private(set) var isMalformed = false

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next field, or nil at the end of the message or at the first malformed byte.
    mutating func next() -> (number: UInt64, value: Value)? {
        guard position < bytes.count, !isMalformed else { return nil }
        guard let key = readVarint() else { return malformed() }
        let number = key >> 3
        guard number != 0 else { return malformed() }
        switch key & 7 {
        case 0:
            guard let value = readVarint() else { return malformed() }
            return (number, .varint(value))
        case 1:
            guard bytes.count - position >= 8 else { return malformed() }
            let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            position += 8
            return (number, .fixed64(value))
        case 2:
            guard let length = readVarint(), length <= UInt64(bytes.count - position) else {
                return malformed()
            }
            let start = position
            position += Int(length)
            return (number, .lengthDelimited(UnsafeRawBufferPointer(rebasing: bytes[start..<position])))
        case 5:
            guard bytes.count - position >= 4 else { return malformed() }
            let value = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
            position += 4
            return (number, .fixed32(value))
        default:
            return malformed()
        }
    }

    private mutating func malformed() -> (number: UInt64, value: Value)? {
        isMalformed = true
        return nil
    }

    /// A base-128 varint of at most 10 bytes.
    mutating func readVarint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count && shift < 64 {
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    /// Every varint of a packed repeated field.
    static func packedVarints(_ bytes: UnsafeRawBufferPointer) -> [UInt64]? {
        var reader = ProtobufFields(bytes)
        var values: [UInt64] = []
        while reader.position < bytes.count {
            guard let value = reader.readVarint() else { return nil }
            values.append(value)
        }
        return values
    }
}
