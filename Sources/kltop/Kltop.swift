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
        subcommands: [DashboardCommand.self, DemoCommand.self, CheckCommand.self, ExportCommand.self],
        defaultSubcommand: DashboardCommand.self
    )

    /// Usage errors exit with 3 ("could not check"), as a monitoring plugin's caller expects, instead of
    /// ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            FileHandleOutput.flush()
        } catch {
            FileHandleOutput.flush()
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
