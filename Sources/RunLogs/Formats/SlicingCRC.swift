/// A reflected CRC-32, computed eight bytes at a time ("slicing by 8"): TFRecord's CRC-32C and W&B's
/// CRC-32 differ only in their polynomial.
///
/// Every byte of an event file goes through CRC-32C twice over (the length and the data), so it must not be
/// the bottleneck: one table lookup per bit-reflected byte would cost about 1 ns per byte, a fifth of the
/// whole ingest budget; slicing by 8 looks up eight tables at once and runs at several GB/s. (Not zlib's
/// own `crc32` for W&B: a chunk is a record of about a hundred bytes, and zlib's setup per call cost more
/// than the checksum itself.)
struct SlicingCRC: Sendable {
    /// `tables[k * 256 + b]`: the CRC of byte `b` followed by `k` zero bytes.
    private let tables: [UInt32]

    init(reflectedPolynomial polynomial: UInt32) {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? polynomial : 0) }
            tables[byte] = crc
        }
        for byte in 0..<256 {
            var crc = tables[byte]
            for slice in 1..<8 {
                crc = (crc >> 8) ^ tables[Int(crc & 0xFF)]
                tables[slice * 256 + byte] = crc
            }
        }
        self.tables = tables
    }

    /// The CRC of `count` bytes at `bytes` (initial and final xor 0xFFFFFFFF).
    func checksum(_ bytes: UnsafeRawPointer, count: Int) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            let t = table.baseAddress!
            var crc: UInt32 = 0xFFFF_FFFF
            var p = bytes
            var left = count
            while left >= 8 {
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) ^ UInt64(crc)
                crc =
                    t[7 * 256 + Int(word & 0xFF)] ^ t[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((word >> 16) & 0xFF)] ^ t[4 * 256 + Int((word >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((word >> 32) & 0xFF)] ^ t[2 * 256 + Int((word >> 40) & 0xFF)]
                    ^ t[1 * 256 + Int((word >> 48) & 0xFF)] ^ t[Int(word >> 56)]
                p += 8
                left -= 8
            }
            while left > 0 {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)]
                p += 1
                left -= 1
            }
            return ~crc
        }
    }
}

/// CRC-32C (Castagnoli), as TFRecord framing uses it.
enum CRC32C {
    private static let crc = SlicingCRC(reflectedPolynomial: 0x82F6_3B78)

    static func checksum(_ bytes: UnsafeRawPointer, count: Int) -> UInt32 {
        crc.checksum(bytes, count: count)
    }

    /// TFRecord's masked CRC: rotated and offset, so that a CRC stored inside CRC-checked data does not make
    /// the outer CRC degenerate.
    static func masked(_ bytes: UnsafeRawPointer, count: Int) -> UInt32 {
        let crc = checksum(bytes, count: count)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// CRC-32 (IEEE 802.3, zlib's: reflected polynomial 0xEDB88320), as W&B's transaction log frames its chunks.
enum CRC32 {
    private static let crc = SlicingCRC(reflectedPolynomial: 0xEDB8_8320)

    static func checksum(_ bytes: UnsafeRawPointer, count: Int) -> UInt32 {
        crc.checksum(bytes, count: count)
    }
}
