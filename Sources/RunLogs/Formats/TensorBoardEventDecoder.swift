/// Reads the step and the KL value out of one TensorBoard `Event` protobuf.
///
/// Only what a scalar needs is decoded (field numbers from tensorflow/core/util/event.proto, summary.proto
/// and tensor.proto):
/// - Event: `step` = 2 (varint; absent on the wire when it is 0, proto3's default), `summary` = 5.
/// - Summary: `value` = 1, repeated. Summary.Value: `tag` = 1, `simple_value` = 2 (float32), `tensor` = 8.
/// - TensorProto: `dtype` = 1, `tensor_shape` = 2, `tensor_content` = 4 (raw little-endian), `float_val` = 5,
///   `double_val` = 6, `half_val` = 13 (half and bfloat16 bits in varints); packed or not.
///
/// A value under the KL tag that is not a one-element float tensor (a histogram, an image, a vector) is a
/// missing value. Plugin metadata is not required: TF2 writes it on the first event of a tag only.
struct TensorBoardEventDecoder: Sendable {
    var matcher: MetricKeyMatcher

    init(selection: MetricSelection) {
        matcher = MetricKeyMatcher(selection: selection)
    }

    /// The best-ranked KL candidate seen in the event so far.
    private struct Candidate {
        var rank: Int
        /// The tag, only while no tag is chosen.
        var tag: String?
        var value: Double?
    }

    /// An event as read: its outcome under the KL tag, and while no tag is chosen yet, the rank of the tag
    /// it was read under (nil when it holds none) and its step.
    struct Decoded {
        var outcome: RecordOutcome
        var candidateRank: Int?
        var step: Int64
        /// The tag of ``candidateRank``, while no tag is chosen.
        var candidateTag: String? = nil
    }

    /// Decodes an event. While no tag is chosen, nothing is chosen here: see
    /// ``TensorBoardEventReader``, which chooses the best tag of the first step.
    func decode(_ event: UnsafeRawBufferPointer) -> Decoded {
        var fields = ProtobufFields(event)
        var step: Int64 = 0
        var best: Candidate?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (2, .varint(let value)):
                step = Int64(bitPattern: value)
            case (5, .lengthDelimited(let summary)):
                guard scanSummary(summary, &best) else {
                    return Decoded(
                        outcome: .bad("malformed Summary in an Event"), candidateRank: nil, step: step)
                }
            default:
                continue
            }
        }
        if fields.isMalformed {
            return Decoded(outcome: .bad("not an Event protobuf"), candidateRank: nil, step: step)
        }
        guard let best else { return Decoded(outcome: .noMetric, candidateRank: nil, step: step) }
        let outcome: RecordOutcome =
            best.value.map { .sample(MetricSample(step: step, value: $0)) } ?? .missingValue
        return Decoded(outcome: outcome, candidateRank: best.rank, step: step, candidateTag: best.tag)
    }

    /// The tags of an event's scalar summaries (the keys it holds), for the message on a log without KL;
    /// empty for a malformed event.
    static func tags(_ event: UnsafeRawBufferPointer) -> [String] {
        var tags: [String] = []
        var fields = ProtobufFields(event)
        while let field = fields.next() {
            guard field.number == 5, case .lengthDelimited(let summary) = field.value else { continue }
            var values = ProtobufFields(summary)
            while let value = values.next() {
                guard value.number == 1, case .lengthDelimited(let bytes) = value.value else { continue }
                var inner = ProtobufFields(bytes)
                while let part = inner.next() {
                    if part.number == 1, case .lengthDelimited(let tag) = part.value {
                        tags.append(String(decoding: tag, as: UTF8.self))
                    }
                }
            }
        }
        return tags
    }

    /// Looks through a Summary's values for a better-ranked KL tag; false if the Summary is malformed.
    private func scanSummary(_ summary: UnsafeRawBufferPointer, _ best: inout Candidate?) -> Bool {
        var fields = ProtobufFields(summary)
        while let field = fields.next() {
            guard field.number == 1, case .lengthDelimited(let value) = field.value else { continue }
            var tag: UnsafeRawBufferPointer?
            var simpleValue: UInt32?
            var tensor: UnsafeRawBufferPointer?
            var valueFields = ProtobufFields(value)
            while let inner = valueFields.next() {
                switch (inner.number, inner.value) {
                case (1, .lengthDelimited(let bytes)): tag = bytes
                case (2, .fixed32(let bits)): simpleValue = bits
                case (8, .lengthDelimited(let bytes)): tensor = bytes
                default: continue
                }
            }
            if valueFields.isMalformed { return false }
            guard let tag, let rank = matcher.rank(tag), rank < (best?.rank ?? Int.max) else { continue }
            let name = matcher.isChoosing ? String(decoding: tag, as: UTF8.self) : nil
            if let simpleValue {
                best = Candidate(rank: rank, tag: name, value: Double(Float(bitPattern: simpleValue)))
            } else if let tensor {
                guard let scalar = Self.scalar(inTensor: tensor) else { return false }
                best = Candidate(rank: rank, tag: name, value: scalar)
            } else {
                best = Candidate(rank: rank, tag: name, value: nil)
            }
        }
        return !fields.isMalformed
    }

    private enum DataType {
        static let float: UInt64 = 1
        static let double: UInt64 = 2
        static let bfloat16: UInt64 = 14
        static let half: UInt64 = 19
    }

    /// The value of a one-element float tensor: `.some(nil)` for a tensor that is not one, nil if the
    /// TensorProto is malformed.
    static func scalar(inTensor tensor: UnsafeRawBufferPointer) -> Double?? {
        var dtype: UInt64 = 0
        var elements: UInt64 = 1
        var content: UnsafeRawBufferPointer?
        var firstValue: Double?
        var valueCount = 0
        var fields = ProtobufFields(tensor)
        func note(_ value: Double, count: Int) {
            if valueCount == 0 { firstValue = value }
            valueCount += count
        }
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .varint(let value)):
                dtype = value
            case (2, .lengthDelimited(let shape)):
                guard let count = elementCount(shape: shape) else { return nil }
                elements = count
            case (4, .lengthDelimited(let bytes)):
                content = bytes
            case (5, .lengthDelimited(let packed)):
                if packed.count >= 4 {
                    note(
                        Double(Float(bitPattern: packed.loadUnaligned(as: UInt32.self))),
                        count: packed.count / 4)
                }
            case (5, .fixed32(let bits)):
                note(Double(Float(bitPattern: bits)), count: 1)
            case (6, .lengthDelimited(let packed)):
                if packed.count >= 8 {
                    note(
                        Double(bitPattern: UInt64(littleEndian: packed.loadUnaligned(as: UInt64.self))),
                        count: packed.count / 8)
                }
            case (6, .fixed64(let bits)):
                note(Double(bitPattern: bits), count: 1)
            case (13, .lengthDelimited(let packed)):
                guard let values = ProtobufFields.packedVarints(packed) else { return nil }
                if let first = values.first {
                    note(halfBits(UInt16(truncatingIfNeeded: first), dtype), count: values.count)
                }
            case (13, .varint(let value)):
                note(halfBits(UInt16(truncatingIfNeeded: value), dtype), count: 1)
            default:
                continue
            }
        }
        if fields.isMalformed { return nil }
        guard elements == 1 else { return .some(nil) }
        if let content {
            switch (dtype, content.count) {
            case (DataType.float, 4):
                return Double(Float(bitPattern: UInt32(littleEndian: content.loadUnaligned(as: UInt32.self))))
            case (DataType.double, 8):
                return Double(bitPattern: UInt64(littleEndian: content.loadUnaligned(as: UInt64.self)))
            case (DataType.half, 2), (DataType.bfloat16, 2):
                return halfBits(UInt16(littleEndian: content.loadUnaligned(as: UInt16.self)), dtype)
            default:
                return .some(nil)
            }
        }
        guard valueCount >= 1,
            dtype == DataType.float || dtype == DataType.double || dtype == DataType.half
                || dtype == DataType.bfloat16
        else { return .some(nil) }
        return firstValue
    }

    /// The number of elements of a TensorShapeProto (`dim` = 2, each with `size` = 1); nil if malformed.
    private static func elementCount(shape: UnsafeRawBufferPointer) -> UInt64? {
        var count: UInt64 = 1
        var fields = ProtobufFields(shape)
        while let field = fields.next() {
            guard field.number == 2, case .lengthDelimited(let dim) = field.value else { continue }
            var dimFields = ProtobufFields(dim)
            var size: UInt64 = 0
            while let inner = dimFields.next() {
                if inner.number == 1, case .varint(let value) = inner.value { size = value }
            }
            if dimFields.isMalformed { return nil }
            count = count.multipliedReportingOverflow(by: size).partialValue
        }
        return fields.isMalformed ? nil : count
    }

    /// A 16-bit float: IEEE half for DT_HALF, the top half of a float32 for DT_BFLOAT16.
    static func halfBits(_ bits: UInt16, _ dtype: UInt64) -> Double {
        if dtype == DataType.bfloat16 { return Double(Float(bitPattern: UInt32(bits) << 16)) }
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default:
            return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
