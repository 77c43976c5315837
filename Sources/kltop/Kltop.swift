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
        version: "kltop \(KltopVersion.current)",
        subcommands: [
            DashboardCommand.self, DemoCommand.self, CheckCommand.self, ExportCommand.self,
            SnapshotCommand.self,
        ],
        defaultSubcommand: DashboardCommand.self
    )

    /// Usage errors exit with 3 ("could not check"), as a monitoring plugin's caller expects, instead of
    /// ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            FileHandleOutput.flush()
            return
        } catch {
            FileHandleOutput.flush()
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandleOutput.standardError(usageMessage(for: error))
        }
        // Outside the catch, so that the error (and what ArgumentParser keeps in it) is released first.
        Glibc.exit(3)
    }

    private static func usageMessage(for error: Error) -> String {
        let message = fullMessage(for: error)
        return message.isEmpty ? "kltop: invalid arguments" : message
    }
}
