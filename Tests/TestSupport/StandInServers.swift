import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP server on 127.0.0.1 (an ephemeral port), serving each connection on a thread of its own with
/// `serve`, until ``stop()``.
public class StandInServer: @unchecked Sendable {
    public private(set) var port: UInt16 = 0
    private let listener: Int32
    let lock = NSLock()
    private var stopped = false

    init() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Serves one connection; the socket is closed after it returns.
    func serve(_ connection: Int32) {}

    /// Stops listening; once only. (It was called again by deinit after a test's own stop(), and the
    /// second close(2) closed whatever descriptor another test running alongside had been given that
    /// number: a W&B follow test's file, in CI.)
    public func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            if lock.withLock({ stopped }) {
                close(connection)
                return
            }
            Thread.detachNewThread { [self] in
                serve(connection)
                close(connection)
            }
        }
    }

    /// Reads until `terminator` has arrived (returned with it), or the peer closes (nil).
    static func read(_ connection: Int32, until terminator: [UInt8], pending: inout [UInt8]) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let range = pending.firstRange(of: terminator) {
                let taken = Array(pending[..<range.upperBound])
                pending.removeSubrange(..<range.upperBound)
                return taken
            }
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            pending += buffer[..<count]
        }
    }

    static func send(_ connection: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Waits until `condition` holds, or `timeout` seconds pass; returns whether it held. The lock is not
    /// held while `condition` runs: it reads what it needs through the public accessors.
    public func wait(timeout: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }
}

/// An HTTP endpoint standing in for Slack, Discord or a webhook: records every request, answers with the
/// statuses it is given in turn (then 200), a 429 with `Retry-After: 1`.
public final class HTTPStandIn: StandInServer, @unchecked Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: String

        /// The body as a JSON object.
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }
    }

    private var statuses: [Int]
    private var received: [Request] = []

    public init(failingWith statuses: [Int] = []) throws {
        self.statuses = statuses
        try super.init()
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    public var requests: [Request] { lock.withLock { received } }

    /// Waits for at least `count` requests.
    @discardableResult
    public func waitForRequests(_ count: Int, timeout: Double = 20) -> [Request] {
        _ = wait(timeout: timeout) { requests.count >= count }
        return requests
    }

    override func serve(_ connection: Int32) {
        var pending: [UInt8] = []
        guard let head = Self.read(connection, until: Array("\r\n\r\n".utf8), pending: &pending) else {
            return
        }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where line.contains(":") {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] =
                parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while pending.count < length {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            pending += buffer[..<count]
        }
        let status: Int = lock.withLock {
            received.append(
                Request(
                    method: requestLine.first.map(String.init) ?? "",
                    path: requestLine.count > 1 ? String(requestLine[1]) : "", headers: headers,
                    body: String(decoding: pending.prefix(length), as: UTF8.self)))
            return statuses.isEmpty ? 200 : statuses.removeFirst()
        }
        let extra = status == 429 ? "Retry-After: 1\r\n" : ""
        Self.send(
            connection,
            "HTTP/1.1 \(status) Stand-in\r\n\(extra)Content-Length: 0\r\nConnection: close\r\n\r\n")
    }
}

/// An SMTP server standing in for a mail relay: takes every message (no STARTTLS offered, any login
/// accepted) and records its envelope and text.
public final class SMTPStandIn: StandInServer, @unchecked Sendable {
    public struct Message: Sendable {
        public var from: String
        public var to: [String]
        public var data: String
        /// Whether the client logged in, and as whom (the password is not kept).
        public var login: String?
    }

    private var received: [Message] = []

    public override init() throws { try super.init() }

    public var messages: [Message] { lock.withLock { received } }

    @discardableResult
    public func waitForMessages(_ count: Int, timeout: Double = 20) -> [Message] {
        _ = wait(timeout: timeout) { messages.count >= count }
        return messages
    }

    override func serve(_ connection: Int32) {
        var pending: [UInt8] = []
        var message = Message(from: "", to: [], data: "", login: nil)
        Self.send(connection, "220 stand-in ESMTP\r\n")
        while let line = Self.read(connection, until: Array("\r\n".utf8), pending: &pending) {
            let command = String(decoding: line.dropLast(2), as: UTF8.self)
            let verb = command.split(separator: " ").first.map { $0.uppercased() } ?? ""
            switch verb {
            case "EHLO": Self.send(connection, "250-stand-in\r\n250 AUTH PLAIN\r\n")
            case "HELO", "RSET", "NOOP": Self.send(connection, "250 OK\r\n")
            case "AUTH":
                // AUTH PLAIN base64(\0user\0password)
                var parts = command.split(separator: " ").map(String.init)
                if parts.count == 2 {  // the credentials come on the next line, when asked for
                    Self.send(connection, "334 \r\n")
                    guard let next = Self.read(connection, until: Array("\r\n".utf8), pending: &pending)
                    else { return }
                    parts.append(String(decoding: next.dropLast(2), as: UTF8.self))
                }
                if parts.count >= 3, let decoded = Data(base64Encoded: parts[2]) {
                    let fields = decoded.split(separator: 0)
                    message.login = fields.first.map { String(decoding: $0, as: UTF8.self) }
                } else {
                    message.login = "(login)"
                }
                Self.send(connection, "235 OK\r\n")
            case "MAIL":
                message.from = Self.address(command)
                Self.send(connection, "250 OK\r\n")
            case "RCPT":
                message.to.append(Self.address(command))
                Self.send(connection, "250 OK\r\n")
            case "DATA":
                Self.send(connection, "354 go on\r\n")
                guard let data = Self.read(connection, until: Array("\r\n.\r\n".utf8), pending: &pending)
                else { return }
                message.data = String(decoding: data.dropLast(5), as: UTF8.self)
                let complete = message
                lock.withLock { received.append(complete) }
                Self.send(connection, "250 OK queued\r\n")
            case "QUIT":
                Self.send(connection, "221 bye\r\n")
                return
            default: Self.send(connection, "502 not here\r\n")
            }
        }
    }

    private static func address(_ command: String) -> String {
        guard let open = command.firstIndex(of: "<"), let close = command.lastIndex(of: ">") else {
            return ""
        }
        return String(command[command.index(after: open)..<close])
    }
}
