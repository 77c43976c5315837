import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A tmux server of the test's own (a private socket) with one session running a shell, for driving the
/// real `kltop` binary in a real terminal: keys in, screen out, every byte written captured on demand.
public final class TmuxSession: @unchecked Sendable {
    public let socket = "kltop-test-\(UUID().uuidString.prefix(8))"
    public let directory: URL

    public init(width: Int, height: Int, environment: [String: String] = [:]) throws {
        directory = try TemporaryDirectory.make("kltop-tmux")
        var command = "env -i HOME=\(NSHomeDirectory()) PATH=/usr/bin:/bin TERM=xterm-256color LANG=C.UTF-8"
        var environment = environment
        // A sanitized build (`swift test --sanitize=thread`) writes its reports where the runner's
        // TSAN_OPTIONS say (log_path=...): inside tmux they would only scroll by on a screen nobody reads.
        if let options = ProcessInfo.processInfo.environment["TSAN_OPTIONS"],
            environment["TSAN_OPTIONS"] == nil
        {
            environment["TSAN_OPTIONS"] = "'\(options)'"
        }
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) { command += " \(key)=\(value)" }
        command += " bash --norc --noprofile"
        // The server this starts would hold a captured stdout open for its whole life: nothing is captured.
        try tmux(
            [
                "new-session", "-d", "-s", "main", "-x", "\(width)", "-y", "\(height)", "-c", directory.path,
                command,
            ], capture: false)
        try tmux(["set-option", "-t", "main", "status", "off"])
        try tmux(["set-window-option", "-t", "main", "aggressive-resize", "off"])
        try tmux(["resize-window", "-t", "main", "-x", "\(width)", "-y", "\(height)"])
        _ = waitForScreen(timeout: 5) { !$0.joined().isEmpty }  // the prompt
    }

    /// The server is stopped and its socket removed: tmux leaves the socket file behind, and a test run
    /// would leave a hundred in /tmp.
    deinit {
        _ = try? tmux(["kill-server"])
        unlink(Self.socketPath(socket))
    }

    /// Where tmux puts the socket of `-L name`.
    public static func socketPath(_ name: String) -> String {
        let directory = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        return "\(directory)/tmux-\(getuid())/\(name)"
    }

    /// Types `text` and presses Enter.
    public func run(_ text: String) throws {
        try tmux(["send-keys", "-t", "main", "-l", text])
        try tmux(["send-keys", "-t", "main", "Enter"])
    }

    /// Presses keys (tmux key names: `q`, `Tab`, `C-c`, `+`).
    public func press(_ keys: String...) throws {
        for key in keys { try tmux(["send-keys", "-t", "main", key]) }
    }

    public func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", "main", "-x", "\(width)", "-y", "\(height)"])
    }

    /// The screen as text lines.
    public func screen() -> [String] {
        (try? tmux(["capture-pane", "-p", "-t", "main"]))?.components(separatedBy: "\n") ?? []
    }

    /// The screen as text lines with its colours and attributes as SGR escape sequences (`capture-pane -e`).
    public func screenWithAttributes() -> [String] {
        (try? tmux(["capture-pane", "-e", "-p", "-t", "main"]))?.components(separatedBy: "\n") ?? []
    }

    /// Waits until `condition` holds for the screen, or `timeout` seconds pass; returns whether it held.
    @discardableResult
    public func waitForScreen(timeout: Double, _ condition: ([String]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(screen()) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition(screen())
    }

    /// Starts copying every byte the pane's program writes to `file` (tmux pipe-pane).
    public func captureOutput(to file: URL) throws {
        try tmux(["pipe-pane", "-o", "-t", "main", "cat >> '\(file.path)'"])
    }

    /// Runs the tmux client with posix_spawn and waitpid: Foundation's Process waits on the daemon a
    /// `new-session` leaves behind.
    @discardableResult
    func tmux(_ arguments: [String], capture: Bool = true) throws -> String {
        let argv = ["/usr/bin/tmux", "-L", socket, "-f", "/dev/null"] + arguments
        var pipe: [Int32] = [-1, -1]
        guard Glibc.pipe(&pipe) == 0 else { throw POSIXError(.EMFILE) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if capture {
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_addclose(&actions, pipe[1])
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        // The tmux server, and every program in it, starts with no signal blocked, as from a login shell
        // (the test runner's threads block some).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, &cArguments, environ)
        close(pipe[1])
        defer { close(pipe[0]) }
        guard spawned == 0 else { throw POSIXError(.ENOENT) }
        var output = Data()
        if capture {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                output.append(contentsOf: buffer[0..<count])
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return String(decoding: output, as: UTF8.self)
    }
}
