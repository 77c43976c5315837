#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a path or an open descriptor refers to: enough to tell a rotation or replacement (another inode)
/// from a file that merely grew or was truncated (the same inode, another size).
struct FileIdentity: Equatable {
    enum Kind: Equatable { case regular, fifo, directory, device, other }

    var device: UInt64
    var inode: UInt64
    var size: Int
    var kind: Kind
    var modification: Time

    /// A modification time, to the nanosecond where the filesystem keeps it.
    struct Time: Equatable {
        var seconds = 0
        var nanoseconds = 0

        /// Seconds from this time to now by the wall clock (negative when it lies ahead of this machine's
        /// clock, as a file server's may).
        var age: Double {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return Double(now.tv_sec - seconds) + Double(now.tv_nsec - nanoseconds) / 1e9
        }
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int(info.st_size)
        modification = Time(seconds: Int(info.st_mtim.tv_sec), nanoseconds: Int(info.st_mtim.tv_nsec))
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFIFO: kind = .fifo
        case S_IFDIR: kind = .directory
        case S_IFCHR, S_IFBLK: kind = .device
        default: kind = .other
        }
    }

    func isSameFile(as other: FileIdentity) -> Bool { device == other.device && inode == other.inode }

    /// The identity of what `path` names now, or the errno explaining why it cannot be looked at.
    static func of(path: String) -> Result<FileIdentity, Errno> {
        var info = stat()
        if stat(path, &info) != 0 { return .failure(Errno(errno)) }
        return .success(FileIdentity(info))
    }

    static func of(descriptor: Int32) -> FileIdentity? {
        var info = stat()
        if fstat(descriptor, &info) != 0 { return nil }
        return FileIdentity(info)
    }
}

/// An errno value, as an Error.
struct Errno: Error, Equatable {
    var code: Int32
    init(_ code: Int32) { self.code = code }
    var message: String { String(cString: strerror(code)) }
}
