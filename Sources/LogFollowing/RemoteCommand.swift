/// How kltop reaches another machine: the ssh command line, and what it runs there.
public struct RemoteOptions: Sendable, Equatable {
    /// `--ssh CMD`: the program and options that open a connection, as rsync's `-e` takes them
    /// (`ssh -F ./cluster_config`). Split into words as a shell would, quotes respected.
    public var sshCommand: [String]
    /// `--remote-kltop PATH`: where kltop is on the other side; nil tries `kltop` on the non-interactive
    /// shell's PATH, then `~/.local/bin/kltop` (where `Scripts/install.sh` puts it).
    public var remoteKltop: String?

    public init(sshCommand: [String] = ["ssh"], remoteKltop: String? = nil) {
        self.sshCommand = sshCommand
        self.remoteKltop = remoteKltop
    }

    /// Splits `--ssh`'s text into words: spaces separate, single and double quotes group, a backslash escapes
    /// the next character. nil for an unterminated quote.
    public static func words(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    escaped = true
                } else {
                    current.append(character)
                }
            } else if character == "\\" {
                escaped = true
                inWord = true
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character == " " || character == "\t" || character == "\n" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { return nil }
        if inWord { words.append(current) }
        return words
    }
}

/// The command lines of a remote connection.
enum RemoteCommand {
    /// What the remote side prints before it exits when no kltop was found: the fallback to `tail -F` is
    /// taken only on this, never on a kltop that failed.
    static let noKltopStatus: Int32 = 127

    /// The argument vector for the local process: ssh, its options, the destination, the remote command.
    /// `-T`: no terminal on the other side (the stream is data); `BatchMode=yes`: a host that asks for a
    /// password is an error, not a prompt over the dashboard.
    static func arguments(_ options: RemoteOptions, _ location: RemoteLocation, remote: String) -> [String] {
        var arguments = options.sshCommand.isEmpty ? ["ssh"] : options.sshCommand
        // Keep-alives: a link that dies silently (a laptop asleep, a NAT timeout) is found dead within a
        // minute and shown, instead of looking like a quiet run. The user's own -o options come first, and
        // ssh takes the first value given.
        arguments += [
            "-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4",
            "-o", "ConnectTimeout=20",
        ]
        if let port = location.port { arguments += ["-p", String(port)] }
        arguments += ["--", location.destination, remote]
        return arguments
    }

    /// The remote shell command that runs kltop's export stream there (`--follow` unless reading to the
    /// end), or exits with 127 when kltop is not there.
    static func export(
        _ location: RemoteLocation, options: RemoteOptions, follow: Bool, metric: String?,
        inputFormat: String?
    ) -> String {
        var export = ["export", "--format", "jsonl", "--with-notes"]
        if follow { export.append("--follow") }
        if let metric { export += ["--metric", metric] }
        if let inputFormat { export += ["--input-format", inputFormat] }
        let exportWords = export.map(shellQuoted).joined(separator: " ") + " -- " + remotePath(location.path)
        let candidates =
            options.remoteKltop.map { [remotePath($0)] } ?? ["kltop", "\"$HOME\"/.local/bin/kltop"]
        // `command -v` finds a name on PATH and accepts an executable path; the loop runs the first found.
        let script =
            "for k in \(candidates.joined(separator: " ")); do "
            + "if command -v \"$k\" >/dev/null 2>&1; then exec \"$k\" \(exportWords); fi; done; "
            + "echo 'kltop: not found on this host' >&2; exit \(noKltopStatus)"
        return "sh -c " + shellQuoted(script)
    }

    /// The remote command for a host without kltop: the file's bytes from `offset`, and on as it grows
    /// (tail's -F: by name, across rotation), or to its end.
    static func tail(_ location: RemoteLocation, follow: Bool, offset: Int) -> String {
        let script =
            follow
            ? "exec tail -c +\(offset + 1) -F -- \(remotePath(location.path))"
            : "exec tail -c +\(offset + 1) -- \(remotePath(location.path))"
        return "sh -c " + shellQuoted(script)
    }

    /// A path for the remote shell: quoted, with a leading `~/` kept as the home folder.
    static func remotePath(_ path: String) -> String {
        if path == "~" { return "\"$HOME\"" }
        if path.hasPrefix("~/") { return "\"$HOME\"/" + shellQuoted(String(path.dropFirst(2))) }
        return shellQuoted(path)
    }

    /// `text` as one word for a POSIX shell.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacing("'", with: "'\\''") + "'"
    }
}
