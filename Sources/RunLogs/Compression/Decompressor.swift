import CZlib
import CZstd

#if canImport(Glibc)
    import Glibc
#endif

/// The compressions a log can be written in that kltop reads: recognised from the first bytes, not the name
/// (`logrotate`'s `compress` makes `train.log.1.gz`; archived runs are often `.zst`).
public enum Compression: String, Sendable, Equatable, CaseIterable {
    case gzip
    case zstd

    /// The names compressed logs end in, stripped to find the log's own name (`run.jsonl.gz` is JSON Lines).
    public static let suffixes = [".gz", ".zst"]

    /// What the first bytes of a stream say: `.some(compression)` when they are enough to tell (nil inside:
    /// not compressed), nil while more bytes could still change the answer (at most 4 are needed).
    ///
    /// gzip starts with 1f 8b; zstd with a frame's magic number 28 b5 2f fd, or a skippable frame's
    /// (5? 2a 4d 18), which zstd reads past.
    public static func recognise(_ bytes: some Collection<UInt8>) -> Compression?? {
        let gzip: [UInt8] = [0x1F, 0x8B]
        let zstd: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        let skippable: [UInt8] = [0x2A, 0x4D, 0x18]
        let first = Array(bytes.prefix(4))
        func couldStart(_ magic: [UInt8]) -> Bool { zip(first, magic).allSatisfy { $0 == $1 } }
        if couldStart(gzip) { return first.count >= gzip.count ? .some(.gzip) : nil }
        if couldStart(zstd) { return first.count >= zstd.count ? .some(.zstd) : nil }
        if let byte = first.first, byte & 0xF0 == 0x50,
            zip(first.dropFirst(), skippable).allSatisfy({ $0 == $1 })
        {
            return first.count >= 4 ? .some(.zstd) : nil
        }
        return .some(nil)
    }

    /// `name` without a compression suffix (`train.log.1.gz` → `train.log.1`).
    public static func strippingSuffix(_ name: String) -> String {
        for suffix in suffixes where name.count > suffix.count && name.lowercased().hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }
}

/// One compressed stream, decompressed as its bytes arrive, through the system's zlib or libzstd.
///
/// A class: zlib's stream state points back at its `z_stream`, which must therefore stay where it is.
/// Several gzip members or zstd frames one after another (`cat a.gz b.gz`, `zstd` on a stream) are one
/// stream. Whatever the bytes, it never reads past what it was given, never loops without progress, and
/// after the first error ignores the rest (``failure``): gzip has no point to resynchronise at.
///
/// Unchecked Sendable: it belongs to one reader, which one thread uses at a time.
final class Decompressor: @unchecked Sendable {
    let compression: Compression
    private var zlib: UnsafeMutablePointer<z_stream>?
    private var zstd: OpaquePointer?
    private let output: UnsafeMutableRawPointer
    private static let outputSize = 128 << 10
    /// Input bytes taken so far (those of a chunk after a failure excluded).
    private(set) var consumed = 0
    /// Where the last complete member or frame ended: the bytes after it are judged on their own.
    private var endOfData = 0
    /// The zstd frame being read: its first bytes (enough for its header) and what it has given so far.
    /// libzstd checks a frame's declared content size against what it decoded only when the frame comes
    /// in one call, so kltop checks it itself, the same however the bytes come.
    private var frameHeader: [UInt8] = []
    private var frameOutput = 0
    /// ZSTD_FRAMEHEADERSIZE_MAX, which zstd.h keeps among its experimental definitions.
    private static let zstdFrameHeaderMaximum = 18
    /// True between complete members or frames: nothing is missing if the stream ends here.
    private(set) var isAtEndOfData = false
    /// A gzip member after another has begun and given nothing yet: an error now is about bytes after the data.
    private var isAtStartOfMember = false
    /// Why the rest of the input is ignored, with the byte it happened at; nil while all is well.
    private(set) var failure: String?

    init(_ compression: Compression) {
        self.compression = compression
        output = .allocate(byteCount: Self.outputSize, alignment: 16)
        switch compression {
        case .gzip:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // 15 + 16: a gzip wrapper, the largest window.
            if czlib_inflate_init(stream, 15 + 16) == Z_OK {
                zlib = stream
            } else {
                stream.deallocate()
                failure = "zlib could not start (out of memory)"
            }
        case .zstd:
            zstd = ZSTD_createDStream()
            if zstd == nil { failure = "libzstd could not start (out of memory)" }
        }
    }

    deinit {
        if let zlib {
            inflateEnd(zlib)
            zlib.deallocate()
        }
        if let zstd { ZSTD_freeDStream(zstd) }
        output.deallocate()
    }

    /// Decompresses `input`, handing the output to `body` in pieces as it comes.
    func decompress(_ input: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard failure == nil, let base = input.baseAddress, !input.isEmpty else { return }
        switch compression {
        case .gzip: inflate(base, input.count, body)
        case .zstd: decompressZstd(base, input.count, body)
        }
    }

    private func inflate(_ base: UnsafeRawPointer, _ count: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard let stream = zlib else { return }
        var offset = 0
        while offset < count && failure == nil {
            // avail_in is 32 bits wide.
            let slice = min(count - offset, Int(UInt32.max))
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(slice)
            offset += slice
            while failure == nil && inflateOnce(stream, body) {}
        }
    }

    /// One call of zlib's inflate; returns whether to call again (more input, or more output pending).
    private func inflateOnce(
        _ stream: UnsafeMutablePointer<z_stream>, _ body: (UnsafeRawBufferPointer) -> Void
    )
        -> Bool
    {
        if isAtEndOfData {
            guard stream.pointee.avail_in > 0 else { return false }
            // Another member follows, or bytes that are not gzip at all (then its header check fails).
            inflateReset(stream)
            isAtEndOfData = false
            isAtStartOfMember = true
        }
        let inputBefore = stream.pointee.avail_in
        stream.pointee.next_out = output.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(Self.outputSize)
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        let produced = Self.outputSize - Int(stream.pointee.avail_out)
        let taken = Int(inputBefore - stream.pointee.avail_in)
        consumed += taken
        if produced > 0 {
            isAtStartOfMember = false
            body(UnsafeRawBufferPointer(start: output, count: produced))
        }
        switch status {
        case Z_STREAM_END:
            isAtEndOfData = true
            endOfData = consumed
            isAtStartOfMember = false
            return stream.pointee.avail_in > 0
        case Z_OK, Z_BUF_ERROR:
            // Z_BUF_ERROR: no progress was possible; more input is needed.
            let outputFull = produced == Self.outputSize
            return (stream.pointee.avail_in > 0 || outputFull) && (taken > 0 || produced > 0)
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            fail(message, afterTheData: isAtStartOfMember)
            return false
        }
    }

    private func decompressZstd(
        _ base: UnsafeRawPointer, _ count: Int, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        guard let stream = zstd else { return }
        var input = ZSTD_inBuffer(src: base, size: count, pos: 0)
        while failure == nil {
            var out = ZSTD_outBuffer(dst: output, size: Self.outputSize, pos: 0)
            let inputBefore = input.pos
            let hint = ZSTD_decompressStream(stream, &out, &input)
            consumed += input.pos - inputBefore
            if frameHeader.count < Self.zstdFrameHeaderMaximum {
                let taken = UnsafeRawBufferPointer(start: base + inputBefore, count: input.pos - inputBefore)
                frameHeader += taken.prefix(Self.zstdFrameHeaderMaximum - frameHeader.count)
            }
            // What was decoded goes on even when an error follows (a checksum that fails is found after the
            // frame's last block): read in pieces, those blocks would have gone on before the error.
            frameOutput += out.pos
            if out.pos > 0 { body(UnsafeRawBufferPointer(start: output, count: out.pos)) }
            if ZSTD_isError(hint) != 0 {
                fail(String(cString: ZSTD_getErrorName(hint)), afterTheData: isAtEndOfData)
                return
            }
            // 0: a frame is complete and flushed; the next bytes, if any, start another.
            isAtEndOfData = hint == 0
            if isAtEndOfData {
                let declared = frameHeader.withUnsafeBytes {
                    ZSTD_getFrameContentSize($0.baseAddress, $0.count)
                }
                // ZSTD_CONTENTSIZE_UNKNOWN and _ERROR are the two largest values.
                if declared < UInt64.max - 1 && declared != UInt64(frameOutput) {
                    fail("the frame declares \(declared) bytes and holds \(frameOutput)", afterTheData: false)
                    return
                }
                endOfData = consumed
                frameHeader.removeAll(keepingCapacity: true)
                frameOutput = 0
            }
            let full = out.pos == out.size
            if input.pos == input.size && !full { return }
            if input.pos == inputBefore && out.pos == 0 { return }
        }
    }

    /// Says why the rest is skipped. Where corrupt data was noticed depends on how the input came in pieces,
    /// so only the end of the good data, which does not, is given as a byte.
    private func fail(_ message: String, afterTheData: Bool) {
        let name = compression.rawValue
        failure =
            afterTheData
            ? "the bytes after the end of the \(name) data (from byte \(endOfData)) are not \(name) data (\(message)); skipped"
            : "the \(name) data is corrupt (\(message)); the rest of it is skipped"
    }
}
