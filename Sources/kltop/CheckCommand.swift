import ArgumentParser
import KLDetector
import KltopKit
import RunLogs

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read each log to its end (or follow it), run the detector, print alerts.",
        discussion: """
            Exit status, as monitoring plugins use it: 0 no alerts, 1 warnings only, 2 any critical, \
            3 could not check (missing or unreadable path, no KL sample in a log, bad config or arguments; \
            the reason is on stderr). A critical in one run outranks a path that could not be checked.
            """
    )

    @OptionGroup var detector: DetectorOptions

    @OptionGroup var sources: SourceFlags

    @OptionGroup var alerts: AlertFlags

    @Flag(
        help: "Keep reading as the logs grow (files, directories, globs, -), until interrupted or stdin ends."
    )
    var follow = false

    @Flag(help: "Print every step where the detector fires, without cooldown or maximum.")
    var raw = false

    @Option(help: "Output: text (a line per alert, then a summary per run) or jsonl (an object per alert).")
    var format: AlertOutputFormat = .text

    @Argument(
        help: ArgumentHelp(
            "Run logs: files, directories, globs, or - for standard input.",
            discussion: SourceFlags.formatsHelp))
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty {
            throw ValidationError("name at least one run log to check (or - for standard input)")
        }
        try sources.validate(paths: paths)
        if alerts.onAlert != nil && !follow {
            throw ValidationError("--on-alert needs --follow: check delivers alerts only while it watches")
        }
    }

    func run() throws {
        let settings = try detector.resolveOrExit()
        if follow { Interruption.install() }
        var request = CheckRequest(
            paths: paths, detector: settings.detector, policy: settings.policy, metric: settings.metric,
            raw: raw,
            format: format, follow: follow, pollInterval: sources.pollInterval,
            forcePolling: sources.forcePolling, inputFormat: sources.inputFormat)
        request.streamNames = sources.names
        request.remote = sources.remote
        if follow, let courier = try alerts.courier(settings) {
            request.courier = courier
            FileHandleOutput.standardError(
                "kltop: delivering alerts to \(courier.channelNames.joined(separator: ", "))")
        }
        let status = Checker.run(
            request, to: follow ? FileHandleOutput.immediateSink : FileHandleOutput.sink,
            shouldStop: { Interruption.wasRequested })
        if status != .ok { throw ExitCode(status.rawValue) }
    }
}
