import CZlib
import CZstd

/// Compressed logs for tests and fuzz harnesses, made with the same system libraries kltop reads them with
/// (the `gzip` and `zstd` commands are not on every machine).
public enum Compressing {
    /// `bytes` as one gzip member, as `gzip` writes it.
    public static func gzip(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        guard czlib_deflate_init(&stream, level, 15 + 16) == Z_OK else { fatalError("deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 64)
        var input = bytes
        let produced = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END, "deflate did not finish")
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    /// `bytes` as one zstd frame, as `zstd` writes it (with the frame's checksum).
    public static func zstd(_ bytes: [UInt8], level: Int32 = 3) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx failed") }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        let produced = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                ZSTD_compress2(context, out.baseAddress, out.count, input.baseAddress, input.count)
            }
        }
        precondition(ZSTD_isError(produced) == 0, "ZSTD_compress failed")
        return Array(output.prefix(produced))
    }

    public static func gzip(_ text: String) -> [UInt8] { gzip(Array(text.utf8)) }
    public static func zstd(_ text: String) -> [UInt8] { zstd(Array(text.utf8)) }
}
