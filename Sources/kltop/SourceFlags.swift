import ArgumentParser
import RunLogs

/// `--input-format NAME` takes the names of ``LogFormat/argumentName``.
extension LogFormat: ExpressibleByArgument {
    public static var allValueStrings: [String] { argumentNames }
    public var defaultValueDescription: String { argumentName }
}

/// How every command reads its sources: `--poll`, `--input-format`.
struct SourceFlags: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Poll every SECONDS instead of waiting for inotify (network filesystems never deliver it).",
            valueName: "seconds"))
    var poll: Double?

    @Option(
        name: .customLong("input-format"),
        help: ArgumentHelp(
            "Read every file as this format: jsonl, csv, tensorboard, console, trainer-state or rlwatch.",
            discussion: "Without it, each file's format is recognised from its content.",
            valueName: "name"))
    var inputFormat: LogFormat?

    static let formatsHelp = """
        Formats: JSON Lines, CSV (stable-baselines3, Lightning), TensorBoard event files (a directory is read \
        as TensorBoard's logdir: each folder of event files is a run), console output of transformers/TRL, \
        veRL and OpenRLHF, trainer_state.json, rlwatch's metrics.db.
        """

    func validate() throws {
        if let poll, !(poll > 0 && poll <= 3600) {
            throw ValidationError("--poll takes seconds between 0 and 3600")
        }
    }

    var pollInterval: Double { poll ?? 1.0 }
    var forcePolling: Bool { poll != nil }
}
