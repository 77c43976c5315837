#if canImport(Glibc)
    import Glibc
#endif

/// Wakes the follower when a watched directory changes, through inotify where the kernel delivers it.
///
/// Directories are watched rather than files: a directory watch also reports writes to the files in it,
/// and it sees files appear, disappear and be renamed over, which a watch on the file itself would lose
/// with the inode. On network filesystems no event ever arrives; the follower's periodic checks cover that.
final class ChangeNotifier {
    /// The descriptor to wait on, or -1 when inotify is off or unavailable.
    private(set) var descriptor: Int32 = -1
    private var watchedDirectories: [Int32: String] = [:]
    private var watchByDirectory: [String: Int32] = [:]
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(enabled: Bool) {
        guard enabled else { return }
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    var isActive: Bool { descriptor >= 0 }

    /// Watches `directory` (idempotent). Failure (no permission, too many watches) only means that changes
    /// there are noticed by polling.
    func watch(directory: String) {
        guard descriptor >= 0, watchByDirectory[directory] == nil else { return }
        let mask: UInt32 =
            UInt32(IN_MODIFY) | UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_MOVED_FROM)
            | UInt32(IN_DELETE)
            | UInt32(IN_CLOSE_WRITE) | UInt32(IN_ATTRIB)
        let watch = inotify_add_watch(descriptor, directory, mask)
        guard watch >= 0 else { return }
        watchedDirectories[watch] = directory
        watchByDirectory[directory] = watch
    }

    /// The paths that changed since the last call (``RunLogFiles/join(_:_:)``; the directory itself for events
    /// without a name). Nil when the event queue overflowed: everything must be checked.
    func drain() -> Set<String>? {
        guard descriptor >= 0 else { return [] }
        var changed: Set<String> = []
        var overflowed = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            buffer.withUnsafeBytes { bytes in
                var position = 0
                let headerSize = MemoryLayout<inotify_event>.size
                while position + headerSize <= count {
                    let event = bytes.loadUnaligned(fromByteOffset: position, as: inotify_event.self)
                    let nameLength = Int(event.len)
                    if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true }
                    if let directory = watchedDirectories[event.wd] {
                        let nameStart = position + headerSize
                        let nameBytes = bytes[nameStart..<min(nameStart + nameLength, count)].prefix {
                            $0 != 0
                        }
                        let path =
                            nameBytes.isEmpty
                            ? directory
                            : RunLogFiles.join(directory, String(decoding: nameBytes, as: UTF8.self))
                        changed.insert(path)
                        forgetStaleWatches(event, path: path)
                    }
                    position += headerSize + nameLength
                }
            }
        }
        return overflowed ? nil : changed
    }

    /// A watch follows its directory's inode, not its path. When a directory is made at a watched path (a
    /// folder deleted and made again: a checkpoint folder, a run folder), the watch there is on the old
    /// inode, which lives on as long as a file in it is open (kltop holds a deleted log open until it has
    /// read it); so the path is forgotten, and watched again when the follower asks. When the kernel drops a
    /// watch (`IN_IGNORED`: its directory is gone for good) it is forgotten too.
    private func forgetStaleWatches(_ event: inotify_event, path: String) {
        let madeHere = UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)
        if event.mask & UInt32(IN_ISDIR) != 0 && event.mask & madeHere != 0 {
            watchByDirectory[path] = nil
        }
        if event.mask & UInt32(IN_IGNORED) != 0, let directory = watchedDirectories[event.wd] {
            watchedDirectories[event.wd] = nil
            if watchByDirectory[directory] == event.wd { watchByDirectory[directory] = nil }
        }
    }
}
