import ArgumentParser
import KltopKit
import RunLogs

extension ExportFormat: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print every step kltop read, normalized: run, step, value.",
        discussion: """
            jsonl writes {"run": ..., "step": ..., "value": ...} per step, non-finite values as the strings \
            "inf", "-inf", "nan"; csv writes run,step,value. Missing values (null) are left out.
            """
    )

    @OptionGroup var sources: SourceFlags

    @Flag(
        help: "Keep reading as the logs grow (files, directories, globs, -), until interrupted or stdin ends."
    )
    var follow = false

    @Option(help: "Output: jsonl or csv.")
    var format: ExportFormat = .jsonl

    @Flag(
        help: ArgumentHelp(
            "With jsonl: also write runs, renames, read counts and notices as {\"note\": ...} lines.",
            discussion: "The stream another machine's kltop reads over ssh for a host:path PATH."))
    var withNotes = false

    @Option(help: ArgumentHelp(DetectorOptions.metricHelp, valueName: "key"))
    var metric: String?

    @Argument(
        help: ArgumentHelp(
            "Run logs: files, directories, globs, or - for standard input.",
            discussion: SourceFlags.formatsHelp))
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty {
            throw ValidationError("name at least one run log to export (or - for standard input)")
        }
        if let metric, metric.isEmpty { throw ValidationError("--metric needs a key") }
        if withNotes && format != .jsonl {
            throw ValidationError("--with-notes writes JSON Lines: use --format jsonl")
        }
        try sources.validate(paths: paths)
    }

    func run() throws {
        if follow { Interruption.install() }
        var request = ExportRequest(
            paths: paths, metric: metric.map(MetricSelection.key) ?? .automatic, format: format,
            follow: follow, pollInterval: sources.pollInterval, forcePolling: sources.forcePolling,
            inputFormat: sources.inputFormat)
        request.streamNames = sources.names
        request.withNotes = withNotes
        request.remote = sources.remote
        let status = Exporter.run(
            request, to: FileHandleOutput.sink, flush: FileHandleOutput.flush,
            shouldStop: { Interruption.wasRequested || FileHandleOutput.readerHasGone })
        if status != 0 { throw ExitCode(status) }
    }
}
