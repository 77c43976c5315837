import ArgumentParser

/// `--follow` and `--poll`, shared by the headless commands.
struct FollowFlags: ParsableArguments {
    @Flag(help: "Keep reading as the logs grow (files, directories, globs, -), until interrupted or stdin ends.")
    var follow = false

    @Option(
        help: ArgumentHelp(
            "Poll every SECONDS instead of waiting for inotify (network filesystems never deliver it).",
            valueName: "seconds"))
    var poll: Double?

    func validate() throws {
        if let poll, !(poll > 0 && poll <= 3600) { throw ValidationError("--poll takes seconds between 0 and 3600") }
    }

    var pollInterval: Double { poll ?? 1.0 }
    var forcePolling: Bool { poll != nil }
}
