/// A PATH on another machine, written as scp and rsync write them: `host:path`, `user@host:path`,
/// `[::1]:path`, or `ssh://[user@]host[:port]/path`.
///
/// The rule is scp's: a colon before any slash makes the argument remote, so `./a:b` and `/runs/a:b` are
/// local files, and so is anything with no colon.
public struct RemoteLocation: Sendable, Equatable, CustomStringConvertible {
    /// What ssh is given as its destination: `host` or `user@host`.
    public var destination: String
    /// The host alone, as runs are named (`host:run`).
    public var host: String
    public var port: Int?
    /// The path on the remote machine, as written (`~/runs`, `runs/`, `/scratch/exp`).
    public var path: String

    public init(destination: String, host: String, port: Int? = nil, path: String) {
        self.destination = destination
        self.host = host
        self.port = port
        self.path = path
    }

    /// nil when `argument` is a local path; an error when it is remote but unusable.
    public static func parse(_ argument: String) -> Result<RemoteLocation, RemoteLocationError>? {
        if argument.hasPrefix("ssh://") { return parseURL(String(argument.dropFirst(6)), argument) }
        guard let colon = remoteColon(argument) else { return nil }
        let destination = String(argument[..<colon])
        let path = String(argument[argument.index(after: colon)...])
        var host = destination
        if let at = destination.lastIndex(of: "@") {
            host = String(destination[destination.index(after: at)...])
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return make(destination: destination, host: host, port: nil, path: path, argument)
    }

    /// The colon that ends the host part, or nil when there is none before the first slash.
    private static func remoteColon(_ argument: String) -> String.Index? {
        if argument.hasPrefix("[") {
            // `[::1]:path` or `user@[fe80::1]:path`: the host's own colons are inside the brackets.
            guard let close = argument.firstIndex(of: "]") else { return nil }
            let after = argument.index(after: close)
            return after < argument.endIndex && argument[after] == ":" ? after : nil
        }
        if let bracket = argument.firstRange(of: "@[") {
            guard let close = argument[bracket.upperBound...].firstIndex(of: "]") else { return nil }
            let after = argument.index(after: close)
            return after < argument.endIndex && argument[after] == ":" ? after : nil
        }
        guard let colon = argument.firstIndex(of: ":") else { return nil }
        if let slash = argument.firstIndex(of: "/"), slash < colon { return nil }
        return colon
    }

    private static func parseURL(_ rest: String, _ argument: String) -> Result<
        RemoteLocation, RemoteLocationError
    > {
        guard let slash = rest.firstIndex(of: "/") else {
            return .failure(RemoteLocationError(argument: argument, problem: "names no path after the host"))
        }
        var authority = String(rest[..<slash])
        let path = String(rest[slash...])
        var port: Int?
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number)
            else {
                return .failure(
                    RemoteLocationError(argument: argument, problem: "has a port that is not a number"))
            }
            port = number
            authority = String(authority[..<colon])
        }
        var host = authority
        if let at = authority.lastIndex(of: "@") { host = String(authority[authority.index(after: at)...]) }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // `ssh://host/~/runs` is the home folder's `runs`, as git reads it.
        let remotePath = path.hasPrefix("/~") ? String(path.dropFirst()) : path
        return make(destination: authority, host: host, port: port, path: remotePath, argument)
    }

    private static func make(
        destination: String, host: String, port: Int?, path: String, _ argument: String
    ) -> Result<RemoteLocation, RemoteLocationError> {
        guard !host.isEmpty else {
            return .failure(RemoteLocationError(argument: argument, problem: "names no host before the ':'"))
        }
        guard !path.isEmpty else {
            return .failure(
                RemoteLocationError(
                    argument: argument, problem: "names no path after the ':' (say which logs)"))
        }
        // ssh would read a destination starting with '-' as an option.
        guard !destination.hasPrefix("-"),
            host.unicodeScalars.allSatisfy({
                $0.properties.isAlphabetic || "0123456789.-_:%".unicodeScalars.contains($0)
            })
        else {
            return .failure(RemoteLocationError(argument: argument, problem: "is not a host name"))
        }
        return .success(RemoteLocation(destination: destination, host: host, port: port, path: path))
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(shownHost):\(path)"
    }
}

public struct RemoteLocationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var argument: String
    public var problem: String
    public var description: String { "\(argument): \(problem)" }
}
