import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// OpenSSH's sshd of the test's own, on 127.0.0.1 and a free port, with a throwaway host key and a user
/// key made for it: `kltop 127.0.0.1:PATH --ssh "\(server.sshCommand)"` logs in as the current user.
/// Needs Debian's openssh-server (`.ci/run` installs it).
public final class SSHServer: @unchecked Sendable {
    public let directory: URL
    public let port: Int
    /// The listening sshd's process.
    private let pid: Int32
    private let log: URL

    public enum Failure: Error, CustomStringConvertible {
        case notInstalled
        case didNotStart(String)
        public var description: String {
            switch self {
            case .notInstalled: "sshd is not installed (apt-get install openssh-server)"
            case .didNotStart(let log): "sshd did not start: \(log)"
            }
        }
    }

    public init() throws {
        let sshd = "/usr/sbin/sshd"
        guard FileManager.default.isExecutableFile(atPath: sshd) else { throw Failure.notInstalled }
        directory = try TemporaryDirectory.make("kltop-sshd")
        for key in ["host_key", "user_key", "other_key"] {
            try Self.run(
                "/usr/bin/ssh-keygen",
                ["-q", "-t", "ed25519", "-N", "", "-f", directory.appendingPathComponent(key).path])
        }
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("user_key.pub"),
            to: directory.appendingPathComponent("authorized_keys"))
        // sshd refuses to start without its privilege-separation folder (Debian makes it at boot).
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        log = directory.appendingPathComponent("sshd.log")
        var lastLog = ""
        for _ in 0..<5 {
            let port = Self.freePort()
            let config = directory.appendingPathComponent("sshd_config")
            try """
            ListenAddress 127.0.0.1
            Port \(port)
            HostKey \(directory.appendingPathComponent("host_key").path)
            AuthorizedKeysFile \(directory.appendingPathComponent("authorized_keys").path)
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            PidFile \(directory.appendingPathComponent("sshd.pid").path)
            SetEnv PATH=/usr/bin:/bin
            """.write(to: config, atomically: true, encoding: .utf8)
            let pidFile = directory.appendingPathComponent("sshd.pid")
            try? FileManager.default.removeItem(at: pidFile)
            try? FileManager.default.removeItem(at: log)
            // Started as a daemon (no -D): its listener is not this process's child, so Foundation's
            // Process, which reaps every child it started, never blocks waiting for it to exit.
            try Self.run(sshd, ["-f", config.path, "-E", log.path])
            let deadline = Date().addingTimeInterval(10)
            var pid: Int32?
            while Date() < deadline {
                lastLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                pid = (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap {
                    Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                if pid != nil && lastLog.contains("Server listening") { break }
                if lastLog.contains("fatal") || lastLog.contains("Bind to port") { break }
                usleep(20_000)
            }
            if let pid, lastLog.contains("Server listening") {
                self.port = port
                self.pid = pid
                return
            }
            if let pid { kill(pid, SIGTERM) }
        }
        throw Failure.didNotStart(lastLog)
    }

    deinit { stop() }

    public func stop() {
        dropConnections()
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
    }

    /// `--ssh`: ssh with the test's key and port, no host-key questions, nothing said on success.
    public var sshCommand: String { sshCommand(key: "user_key") }

    /// The same with a key the server does not accept: the host refuses.
    public var refusedSSHCommand: String { sshCommand(key: "other_key") }

    private func sshCommand(key: String) -> String {
        "ssh -i \(directory.appendingPathComponent(key).path) -p \(port) -o StrictHostKeyChecking=no "
            + "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o IdentitiesOnly=yes"
    }

    /// Kills every connection's sshd process (the listener stays): the connections drop as a network
    /// failure would drop them, and the programs they ran on this side are left behind, as they would be.
    public func dropConnections() {
        for child in Self.children(of: pid) { kill(child, SIGKILL) }
    }

    /// Stops the listener (SIGSTOP) without closing it: new connections wait, as at a host that hangs.
    public func suspend() { kill(pid, SIGSTOP) }

    public func resume() { kill(pid, SIGCONT) }

    /// How many connections are open now.
    public var connectionCount: Int { Self.children(of: pid).count }

    /// The processes whose parent is `pid`, from /proc (the parent is the 4th field of /proc/N/stat,
    /// after the command name's closing parenthesis).
    private static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let child = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid ? child : nil
        }
    }

    private static func freePort() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func run(_ program: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
    }
}
