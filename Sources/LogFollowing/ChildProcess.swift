import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A program kltop started (ssh, for a remote PATH) with its standard output and error as non-blocking
/// pipes, read by the follower's own loop. Its standard input is /dev/null: nothing a remote side asks can
/// reach the terminal.
final class ChildProcess {
    let pid: pid_t
    let output: Int32
    let errors: Int32
    private(set) var status: Int32?

    /// Every child still running, ended when kltop exits however it exits normally (quitting the dashboard
    /// calls exit(3)): an ssh left behind would hold its remote kltop open for as long as the run is quiet.
    private static let running = Mutex<Set<pid_t>>([])
    private static let exitHook: Void = { atexit { ChildProcess.endAll() } }()

    /// nil with the reason when the program cannot be started (not found, not executable).
    static func start(_ arguments: [String]) -> Result<ChildProcess, SpawnError> {
        _ = exitHook
        var outputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        guard pipe(&outputPipe) == 0 else { return .failure(SpawnError(errno)) }
        guard pipe(&errorPipe) == 0 else {
            let failure = errno
            close(outputPipe[0])
            close(outputPipe[1])
            return .failure(SpawnError(failure))
        }
        // Not inherited by other children (pipe2's O_CLOEXEC is not visible to Swift): one ssh holding
        // another's pipe open would keep that stream from ever ending.
        for descriptor in outputPipe + errorPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let result = SpawnSignals.reset { posix_spawnp(&pid, arguments[0], &actions, $0, argv, environ) }
        close(outputPipe[1])
        close(errorPipe[1])
        guard result == 0 else {
            close(outputPipe[0])
            close(errorPipe[0])
            return .failure(SpawnError(result))
        }
        for descriptor in [outputPipe[0], errorPipe[0]] {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        running.withLock { _ = $0.insert(pid) }
        return .success(ChildProcess(pid: pid, output: outputPipe[0], errors: errorPipe[0]))
    }

    private init(pid: pid_t, output: Int32, errors: Int32) {
        self.pid = pid
        self.output = output
        self.errors = errors
    }

    deinit {
        end()
        close(output)
        close(errors)
    }

    /// Reaps the child if it has exited; its exit status (a signal's number + 128, as a shell says it).
    @discardableResult
    func reap(waiting: Bool = false) -> Int32? {
        if status != nil { return status }
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, waiting ? 0 : WNOHANG)
        guard result == pid else { return nil }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out: the C macros are not visible to Swift.
        let signal = raw & 0x7F
        status = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
        Self.running.withLock { _ = $0.remove(pid) }
        return status
    }

    /// Stops the child (SIGTERM: ssh closes the connection, and the other side's kltop sees its reader
    /// gone) and reaps it; one that has not exited half a second later is killed.
    func end() {
        guard reap() == nil else { return }
        kill(pid, SIGTERM)
        for _ in 0..<50 {
            if reap() != nil { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        reap(waiting: true)
    }

    private static func endAll() {
        for pid in running.withLock({ $0 }) { kill(pid, SIGTERM) }
    }
}

struct SpawnError: Error, CustomStringConvertible {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { String(cString: strerror(code)) }
}

/// How kltop starts children (ssh, `--on-alert` commands).
public enum SpawnSignals {
    /// Calls `body` with spawn attributes that start a child with no signal blocked and the usual
    /// dispositions. The threads that start children (the dashboard's reader, the alert delivery thread)
    /// block the signals the main thread handles, and kltop ignores SIGPIPE; inherited, they would make ssh
    /// deaf to the SIGTERM that ends it, and an `--on-alert` command (and a `timeout` inside it) deaf to its
    /// own.
    public static func reset<Result>(_ body: (UnsafePointer<posix_spawnattr_t>) -> Result)
        -> Result
    {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return body(&attributes)
    }
}
