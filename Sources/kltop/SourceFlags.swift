import ArgumentParser
import LogFollowing
import RunLogs

/// `--input-format NAME` takes the names of ``LogFormat/argumentName``; the help lists each with what it is.
extension LogFormat: ExpressibleByArgument {
    public static var allValueStrings: [String] { argumentNames }
    public var defaultValueDescription: String { argumentName }
    /// Without this, ArgumentParser lists every name with an empty description (it looks them up by raw
    /// value, and finds only the two whose raw value differs from their name).
    public static var allValueDescriptions: [String: String] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.argumentName, $0.helpDescription) })
    }

    var helpDescription: String {
        switch self {
        case .jsonl: "JSON Lines: a record per line, flat or veRL's {\"step\", \"data\"}"
        case .csv: "CSV with a header row (stable-baselines3, Lightning)"
        case .tensorboard: "TensorBoard event files (events.out.tfevents.*)"
        case .console: "console output of transformers/TRL, veRL, OpenRLHF"
        case .trainerState: "transformers/TRL trainer_state.json"
        case .rlwatchStore: "rlwatch's SQLite store (rlwatch_logs/metrics.db)"
        case .wandb: "Weights & Biases run files (wandb/run-*/run-<id>.wandb)"
        case .swanlab: "SwanLab run files (swanlog/run-*/run-<id>.swanlab)"
        case .mlflowStore: "MLflow's tracking store: mlflow.db (SQLite) or the mlruns/ folder"
        case .trackioStore: "a Trackio project database ($TRACKIO_DIR/<project>.db)"
        }
    }
}

/// How every command reads its sources: `--poll`, `--input-format`.
struct SourceFlags: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Poll every SECONDS instead of waiting for inotify (network filesystems never deliver it).",
            valueName: "seconds"))
    var poll: Double?

    @Option(
        name: .customLong("input-format"),
        help: ArgumentHelp(
            "Read every file as this format instead of recognising it from its content:",
            valueName: "name"))
    var inputFormat: LogFormat?

    @Option(
        name: .customLong("name"),
        help: ArgumentHelp(
            "Name the run read from standard input or a pipe (repeat for several, in the order of the PATHs).",
            valueName: "name"))
    var names: [String] = []

    @Option(
        name: .customLong("ssh"),
        help: ArgumentHelp(
            "The command that opens connections for host:path PATHs, as rsync's -e (\"ssh -F ./cluster_config\").",
            valueName: "command"))
    var ssh = "ssh"

    @Option(
        name: .customLong("remote-kltop"),
        help: ArgumentHelp(
            "Where kltop is on the hosts of host:path PATHs (default: kltop on PATH, then ~/.local/bin/kltop).",
            valueName: "path"))
    var remoteKltop: String?

    static let formatsHelp = """
        Formats: JSON Lines, CSV (stable-baselines3, Lightning), TensorBoard event files (a directory is read \
        as TensorBoard's logdir: each folder of event files is a run), console output of transformers/TRL, \
        veRL and OpenRLHF, trainer_state.json, rlwatch's metrics.db, MLflow's mlflow.db and mlruns/ (each \
        run by its run name), Trackio's <project>.db, W&B's wandb/run-*/ and SwanLab's swanlog/run-*/ \
        run files (each run by its W&B display name or SwanLab experiment name).
        """

    func validate() throws {
        if let poll, !(poll > 0 && poll <= 3600) {
            throw ValidationError("--poll takes seconds between 0 and 3600")
        }
    }

    /// What can only be checked against the PATHs: `--name` needs a stream to name; a `host:path` needs
    /// both.
    func validate(paths: [String]) throws {
        if let unusable = LogFollower.unusableArguments(paths).first {
            throw ValidationError(
                "\(unusable) (a remote PATH is host:path, user@host:path or ssh://host/path)")
        }
        if RemoteOptions.words(ssh)?.isEmpty ?? true {
            throw ValidationError("--ssh needs a command (its quotes must close)")
        }
        if let remoteKltop, remoteKltop.isEmpty { throw ValidationError("--remote-kltop needs a path") }
        if names.contains(where: { $0.allSatisfy(\.isWhitespace) }) {
            throw ValidationError("--name needs a name")
        }
        let streams = LogFollower.streamCount(paths)
        if names.count > streams {
            let what =
                streams == 0
                ? "none of the PATHs is" : "only \(streams) of the PATHs \(streams == 1 ? "is" : "are")"
            throw ValidationError(
                "--name names a run read from standard input or a pipe, and \(what) (- or a pipe such as <(cmd))"
            )
        }
    }

    func followOptions(metric: MetricSelection) -> FollowOptions {
        var options = FollowOptions(
            metric: metric, pollInterval: pollInterval, forcePolling: forcePolling, inputFormat: inputFormat)
        options.streamNames = names
        options.remote = remote
        return options
    }

    var remote: RemoteOptions {
        RemoteOptions(sshCommand: RemoteOptions.words(ssh) ?? ["ssh"], remoteKltop: remoteKltop)
    }

    var pollInterval: Double { poll ?? 1.0 }
    var forcePolling: Bool { poll != nil }
}
