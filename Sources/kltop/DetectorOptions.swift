import ArgumentParser
import KLDetector
import KltopKit
import RunLogs

extension BaselineMode: ExpressibleByArgument {}
extension AlertOutputFormat: ExpressibleByArgument {}

/// The detector and alert-policy flags shared by `check`, `export` and the dashboard. Each overrides the
/// same setting from an rlwatch.yaml.
///
/// The numeric options parse `.unconditional`ly: ArgumentParser would otherwise take `-1` in `--sigma -1` for
/// an option and say the value is missing; taken as a value, it gets the same message as `--sigma=-1`.
struct DetectorOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Warn above this many standard deviations; critical above 1.5 times it. (default: 3.0)",
            valueName: "x"))
    var sigma: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Samples in the rolling window. (default: 100)", valueName: "n"))
    var window: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Samples seen before any decision. (default: 20)", valueName: "n"))
    var warmup: Int?

    @Option(
        help: ArgumentHelp(
            "Baseline: rolling (follows the run) or frozen (locks when the window first fills). (default: rolling)",
            valueName: "mode"))
    var baseline: BaselineMode?

    @Option(help: ArgumentHelp(Self.metricHelp, valueName: "key"))
    var metric: String?

    static let metricHelp =
        "The key that holds KL (data.KEY for one inside veRL's data). (default: the first of kltop's known KL "
        + "keys found in the log)"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Suppress a repeat of the same severity within this many logged steps. (default: 100)",
            valueName: "steps"))
    var cooldown: Int?

    @Option(
        name: .customLong("max-alerts"), parsing: .unconditional,
        help: ArgumentHelp("Deliver at most this many alerts per run. (default: 50)", valueName: "n"))
    var maxAlerts: Int?

    @Option(
        help: ArgumentHelp(
            "An rlwatch.yaml to read kl_explosion and alerts settings from.",
            discussion: "Without it, ./rlwatch.yaml, ./rlwatch.yml or ./.rlwatch.yaml is used if present.",
            valueName: "file"))
    var config: String?

    var overrides: SettingsOverrides {
        SettingsOverrides(
            sigma: sigma, window: window, warmup: warmup, baseline: baseline, metric: metric,
            cooldown: cooldown,
            maxAlerts: maxAlerts, configPath: config)
    }

    func validate() throws {
        if let problem = overrides.flagProblem { throw ValidationError(problem.description) }
    }

    /// Resolves the settings, or reports the problem and exits with 3 ("could not check").
    func resolveOrExit() throws -> ResolvedSettings {
        do {
            let settings = try overrides.resolve()
            for note in settings.notes { FileHandleOutput.standardError("kltop: \(note)") }
            return settings
        } catch {
            FileHandleOutput.standardError("kltop: \(error.description)")
            throw ExitCode(3)
        }
    }
}
