#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// What kltop took from Foundation, on the C library instead: swift-corelibs Foundation brings ICU and its
// 34 MB of data into a static binary (README, "Dependencies").

/// A whole small file (rlwatch.yaml, a theme), or why it cannot be had, in the words kltop prints.
public enum TextFile {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case noSuchFile, isADirectory, cannotBeRead

        public var description: String {
            switch self {
            case .noSuchFile: "no such file"
            case .isADirectory: "is a directory"
            case .cannotBeRead: "cannot be read"
            }
        }
    }

    public static func read(_ path: String) -> Result<[UInt8], Problem> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return .failure(errno == ENOENT || errno == ENOTDIR ? .noSuchFile : .cannotBeRead)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(.cannotBeRead) }
        if (status.st_mode & S_IFMT) == S_IFDIR { return .failure(.isADirectory) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { readBytes(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return .success(bytes) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(errno == EISDIR ? .isADirectory : .cannotBeRead)
            }
            bytes += chunk[0..<count]
        }
    }

    /// Whether anything (a file, a directory) is at `path`, following symbolic links.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}

/// read(2), out of `TextFile.read`'s way.
private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

/// C's `printf` formatting of one double (`%.4g`, `%.12g`): what `String(format:)` did, without Foundation.
public func cFormat(_ value: Double, _ format: String) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let needed = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
    if needed >= buffer.count {
        buffer = [CChar](repeating: 0, count: Int(needed) + 1)
        _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
    }
    return String(cString: buffer)
}

/// A pthread mutex, as NSLock was (ThreadSanitizer sees it; see ``ThreadCondition``).
final class ThreadLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}

/// A pthread mutex and condition variable, as NSCondition was: ThreadSanitizer sees pthread's locks (not
/// Synchronization's futex-based Mutex on Linux). Timed waits are measured on the monotonic clock.
final class ThreadCondition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if canImport(Glibc)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Wakes one waiter; call with the lock held.
    func signal() { pthread_cond_signal(condition) }
    /// Waits for a signal (or a spurious wake-up); call with the lock held.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits for a signal, a spurious wake-up, or `seconds` to pass; call with the lock held.
    func wait(seconds: Double) {
        #if canImport(Glibc)
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let wait = max(0, min(seconds, 1e9))
            let whole = wait.rounded(.down)
            var nanoseconds = deadline.tv_nsec + Int((wait - whole) * 1e9)
            var secondsPart = deadline.tv_sec + Int(whole)
            if nanoseconds >= 1_000_000_000 {
                nanoseconds -= 1_000_000_000
                secondsPart += 1
            }
            deadline.tv_sec = secondsPart
            deadline.tv_nsec = nanoseconds
            _ = pthread_cond_timedwait(condition, mutex, &deadline)
        #else
            var relative = timespec(
                tv_sec: Int(max(0, seconds).rounded(.down)),
                tv_nsec: Int((max(0, seconds) - max(0, seconds).rounded(.down)) * 1e9))
            _ = pthread_cond_timedwait_relative_np(condition, mutex, &relative)
        #endif
    }
}
