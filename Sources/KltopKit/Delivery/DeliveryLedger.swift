import KLDetector

#if canImport(Glibc)
    import Glibc
#endif

/// An alert as the ledger names it: the same run re-read by a restarted kltop raises it again at the same
/// step with the same severity (the detector and policy are deterministic).
public struct DeliveryKey: Hashable, Sendable {
    public var step: Int64
    public var severity: Severity
    /// The notice that the run went quiet after `step`, not an alert at it.
    public var isStale = false

    public init(step: Int64, severity: Severity, isStale: Bool = false) {
        self.step = step
        self.severity = severity
        self.isStale = isStale
    }
}

/// What each channel has been given for each run, kept across restarts so that nothing is sent twice:
/// one small file per run and channel, `$XDG_STATE_HOME/kltop/delivered/<run>-<hash>-<channel>.jsonl`
/// (`~/.local/state/kltop/…` when XDG_STATE_HOME is unset), a line per alert delivered
/// (`{"step": 120, "severity": "critical"}`). A file that exists says the channel knows the run: its past
/// was summed up, or it had none.
///
/// Used by the delivery thread only.
final class DeliveryLedger {
    let directory: String
    private var cache: [String: Set<DeliveryKey>] = [:]
    /// Why the ledger could not be written, once said.
    private(set) var problem: String?

    init(directory: String) {
        self.directory = directory
    }

    /// `$XDG_STATE_HOME/kltop/delivered`, or `~/.local/state/kltop/delivered`; nil without a home.
    static func defaultDirectory(environment: [String: String]) -> String? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return state + "/kltop/delivered"
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.local/state/kltop/delivered"
    }

    func isKnown(_ run: RunIdentity, _ channel: String) -> Bool {
        if cache[path(run, channel)] != nil { return true }
        return access(path(run, channel), F_OK) == 0
    }

    func delivered(_ run: RunIdentity, _ channel: String) -> Set<DeliveryKey> {
        let file = path(run, channel)
        if let known = cache[file] { return known }
        var keys = Set<DeliveryKey>()
        if let text = Self.contents(of: file) {
            for line in text.split(separator: "\n") {
                // {"step": 120, "severity": "critical"}, or with "kind": "stale" for a stale notice
                let parts = line.split(whereSeparator: { " ,:{}\"".contains($0) })
                guard parts.count == 4 || (parts.count == 6 && parts[4] == "kind" && parts[5] == "stale"),
                    parts[0] == "step", let step = Int64(parts[1]), parts[2] == "severity",
                    let severity = Severity(rawValue: String(parts[3]))
                else { continue }
                keys.insert(DeliveryKey(step: step, severity: severity, isStale: parts.count == 6))
            }
        }
        cache[file] = keys
        return keys
    }

    /// Adds `keys` to what the channel was given for the run (an empty list: the run is known to it now).
    func record(_ keys: [DeliveryKey], _ run: RunIdentity, _ channel: String) {
        let file = path(run, channel)
        var known = delivered(run, channel)
        known.formUnion(keys)
        cache[file] = known
        guard makeDirectory() else { return }
        let fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            noteProblem(errno)
            return
        }
        defer { close(fd) }
        let lines = keys.map {
            "{\"step\": \($0.step), \"severity\": \"\($0.severity.rawValue)\"\($0.isStale ? ", \"kind\": \"stale\"" : "")}\n"
        }.joined()
        let bytes = Array(lines.utf8)
        if !bytes.isEmpty && bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) != bytes.count {
            noteProblem(errno)
        }
    }

    /// `<run>-<hash of its source and name>-<channel>.jsonl`: the name for a person looking, the hash to
    /// tell apart runs of one name.
    func path(_ run: RunIdentity, _ channel: String) -> String {
        let readable = String(
            run.name.unicodeScalars.prefix(40).map { scalar -> Character in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                        || "-_.".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "_"
            })
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in (run.source + "\u{0}" + run.name).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        let channelName = channel == "--on-alert" ? "command" : channel
        return
            "\(directory)/\(readable)-\(String(repeating: "0", count: 16 - hex.count))\(hex)-\(channelName).jsonl"
    }

    private func makeDirectory() -> Bool {
        var path = ""
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                noteProblem(errno)
                return false
            }
        }
        return true
    }

    private func noteProblem(_ code: Int32) {
        problem =
            "cannot keep the record of delivered alerts in \(directory) (\(String(cString: strerror(code)))): "
            + "after a restart, alerts may be sent again"
    }

    private static func contents(of path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
