import ArgumentParser
import KLDetector
import KltopKit
import RunLogs

/// `--input-format NAME` takes the names of ``LogFormat/argumentName``.
extension LogFormat: ExpressibleByArgument {
    public static var allValueStrings: [String] { argumentNames }
    public var defaultValueDescription: String { argumentName }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read each log to its end, run the detector, print alerts.",
        discussion: """
            Exit status, as monitoring plugins use it: 0 no alerts, 1 warnings only, 2 any critical, \
            3 could not check (missing or unreadable path, bad config or arguments; the reason is on stderr). \
            A critical in one run outranks a path that could not be checked.
            """
    )

    @OptionGroup var detector: DetectorOptions

    @Flag(help: "Print every step where the detector fires, without cooldown or maximum.")
    var raw = false

    @Option(help: "Output: text (a line per alert, then a summary per run) or jsonl (an object per alert).")
    var format: AlertOutputFormat = .text

    @Option(
        name: .customLong("input-format"),
        help: ArgumentHelp(
            "Read every file as this format: jsonl, csv, tensorboard, console, trainer-state or rlwatch.",
            discussion: "Without it, each file's format is recognised from its content.",
            valueName: "name"))
    var inputFormat: LogFormat?

    @Argument(
        help: """
            Run logs: JSON Lines, CSV (stable-baselines3, Lightning), TensorBoard event files or run \
            directories, console captures, trainer_state.json, rlwatch's metrics.db.
            """)
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one run log to check") }
    }

    func run() throws {
        let settings = try detector.resolveOrExit()
        let request = CheckRequest(
            paths: paths, detector: settings.detector, policy: settings.policy, metric: settings.metric,
            raw: raw,
            format: format, inputFormat: inputFormat)
        let status = Checker.run(
            request,
            to: CheckOutput(
                output: FileHandleOutput.standardOutput, diagnostics: FileHandleOutput.standardError))
        if status != .ok { throw ExitCode(status.rawValue) }
    }
}
