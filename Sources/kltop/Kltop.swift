import ArgumentParser
import KltopKit

#if canImport(Glibc)
    import Glibc
#endif

@main
struct Kltop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kltop",
        abstract: "Watch RL training runs for KL-divergence explosions (rlwatch's detector, in a terminal).",
        subcommands: [CheckCommand.self]
    )

    /// Usage errors exit with 3 ("could not check"), as a monitoring plugin's caller expects, instead of
    /// ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error)
                FileHandleOutput.standardError(message.isEmpty ? "kltop: invalid arguments" : message)
                Glibc.exit(3)
            }
            exit(withError: error)
        }
    }
}

/// Writing whole lines to the standard streams.
enum FileHandleOutput {
    static func standardOutput(_ line: String) {
        write(line + "\n", to: STDOUT_FILENO)
    }

    static func standardError(_ line: String) {
        write(line + "\n", to: STDERR_FILENO)
    }

    private static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
