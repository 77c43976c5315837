import Foundation
import Testing

@testable import LogFollowing

/// Children (ssh, `--on-alert` commands) start with no signal blocked and SIGPIPE at its default, though the
/// threads that start them block every signal the main thread handles and kltop ignores SIGPIPE: inherited,
/// ssh ignored the SIGTERM that ends it (found by the remote dashboard test), and a command's own `timeout`
/// would not stop what it runs.
@Suite struct SpawnSignalsTests {
    /// The `SigBlk` and `SigIgn` masks of a child spawned with `attributes` from a thread that blocks
    /// SIGTERM, SIGINT and SIGHUP while SIGPIPE is ignored.
    static func masksOfAChild(reset: Bool) throws -> (blocked: UInt64, ignored: UInt64) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kltop-spawn-\(getpid())-\(reset)")
        defer { try? FileManager.default.removeItem(at: output) }
        nonisolated(unsafe) var status: Int32 = -1
        let thread = Thread {
            var blocked = sigset_t()
            sigemptyset(&blocked)
            for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&blocked, signal) }
            pthread_sigmask(SIG_BLOCK, &blocked, nil)
            let previous = signal(SIGPIPE, SIG_IGN)
            defer { signal(SIGPIPE, previous) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            let arguments: [String] = ["/bin/cat", "/proc/self/status"]
            let argv = arguments.map { strdup($0) } + [nil]
            defer { for argument in argv { free(argument) } }
            var pid: pid_t = 0
            let spawned =
                reset
                ? SpawnSignals.reset { posix_spawn(&pid, "/bin/cat", &actions, $0, argv, environ) }
                : posix_spawn(&pid, "/bin/cat", &actions, nil, argv, environ)
            if spawned == 0 { waitpid(pid, &status, 0) }
        }
        thread.start()
        while !thread.isFinished { usleep(10_000) }
        #expect(status == 0)
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        func mask(_ name: String) -> UInt64 {
            lines.first { $0.hasPrefix(name + ":") }.flatMap {
                UInt64($0.split(separator: "\t").last ?? "", radix: 16)
            }
                ?? .max
        }
        return (mask("SigBlk"), mask("SigIgn"))
    }

    @Test func aChildStartsWithNoSignalBlockedAndSIGPIPEAtItsDefault() throws {
        let pipeBit = UInt64(1) << UInt64(SIGPIPE - 1)
        let child = try Self.masksOfAChild(reset: true)
        #expect(child.blocked == 0)
        #expect(child.ignored & pipeBit == 0)
        // Without the reset the child would have inherited both (what the test would catch).
        let inherited = try Self.masksOfAChild(reset: false)
        #expect(inherited.blocked & (UInt64(1) << UInt64(SIGTERM - 1)) != 0)
        #expect(inherited.ignored & pipeBit != 0)
    }
}
