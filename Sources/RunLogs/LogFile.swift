#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a log could not be read, worded for the person who typed the path.
public enum LogFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(path: String)
    case permissionDenied(path: String)
    case isDirectory(path: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let path): "\(path): no such file"
        case .permissionDenied(let path): "\(path): permission denied (kltop only needs to read it)"
        case .isDirectory(let path): "\(path): is a directory, not a run log"
        case .unreadable(let path, let reason): "\(path): cannot be read: \(reason)"
        }
    }

    static func from(errno code: Int32, path: String) -> LogFileError {
        switch code {
        case ENOENT, ENOTDIR: .notFound(path: path)
        case EACCES, EPERM: .permissionDenied(path: path)
        case EISDIR: .isDirectory(path: path)
        default: .unreadable(path: path, reason: String(cString: strerror(code)))
        }
    }
}

/// Reading a log from start to end in large chunks (for `check` and `export` without `--follow`).
public enum LogFile {
    public static let chunkSize = 1 << 20

    /// Feeds the whole file at `path` to `reader`, then finishes it (a last line without newline counts).
    public static func read<Reader: SampleReader>(
        path: String, into reader: inout Reader, emit: (MetricSample) -> Void
    ) throws(LogFileError) {
        try readChunks(path: path) { chunk in
            if let chunk { reader.consume(chunk, emit: emit) } else { reader.finish(emit: emit) }
        }
    }

    /// Up to `count` bytes from the start of the file, to recognise its format.
    public static func firstBytes(path: String, count: Int = 4096) throws(LogFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .from(errno: errno, path: path) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes {
                systemRead(fd, $0.baseAddress! + filled, count - filled)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw .from(errno: errno, path: path)
            }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[..<filled])
    }

    /// Whether `path` names a directory (following symbolic links).
    public static func isDirectory(path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Hands the file at `path` to `body` in large chunks, then nil at its end.
    public static func readChunks(path: String, _ body: (UnsafeRawBufferPointer?) -> Void)
        throws(LogFileError)
    {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .from(errno: errno, path: path) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { throw .isDirectory(path: path) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = systemRead(fd, buffer, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw .from(errno: errno, path: path)
            }
            if count == 0 { break }
            body(UnsafeRawBufferPointer(start: buffer, count: count))
        }
        body(nil)
    }
}

#if canImport(Glibc)
    private let systemRead = Glibc.read
#elseif canImport(Darwin)
    private let systemRead = Darwin.read
#endif
