import KLDetector
import RunLogs

/// The settings every command runs with, resolved from defaults, then an rlwatch.yaml, then flags.
public struct ResolvedSettings: Sendable {
    public var detector: DetectorSettings
    public var policy: AlertPolicySettings
    public var metric: MetricSelection
    /// Notes for the user (unknown config keys), already worded.
    public var notes: [String]
    /// The `alerts` section's delivery channels as the file sets them (see ``alertChannels(environment:onAlert:)``).
    public var channels = RlwatchChannelSections()
    /// The rlwatch.yaml the settings came from, if any.
    public var configFile: String?
}

/// Settings given on the command line; nil means "not given".
public struct SettingsOverrides: Sendable {
    public var sigma: Double?
    public var window: Int?
    public var warmup: Int?
    public var baseline: BaselineMode?
    public var metric: String?
    public var cooldown: Int?
    public var maxAlerts: Int?
    /// An explicit rlwatch.yaml; without it the current directory's is used, as rlwatch does.
    public var configPath: String?

    public init(
        sigma: Double? = nil, window: Int? = nil, warmup: Int? = nil, baseline: BaselineMode? = nil,
        metric: String? = nil, cooldown: Int? = nil, maxAlerts: Int? = nil, configPath: String? = nil
    ) {
        self.sigma = sigma
        self.window = window
        self.warmup = warmup
        self.baseline = baseline
        self.metric = metric
        self.cooldown = cooldown
        self.maxAlerts = maxAlerts
        self.configPath = configPath
    }

    /// Resolves the settings; `directory` is where a default rlwatch.yaml is looked for.
    public func resolve(defaultConfigDirectory directory: String = ".") throws(ConfigError)
        -> ResolvedSettings
    {
        if let flagProblem { throw flagProblem }
        var detector = DetectorSettings()
        var policy = AlertPolicySettings()
        var notes: [String] = []
        var channels = RlwatchChannelSections()
        let file = configPath ?? RlwatchConfig.findDefault(in: directory)
        if let file {
            let config = try RlwatchConfig.load(path: file)
            config.apply(to: &detector, policy: &policy)
            notes += config.warnings
            channels = config.channels
        }
        if let sigma { detector.sigmaMultiplier = sigma }
        if let window { detector.rollingWindow = window }
        if let warmup { detector.warmupSteps = warmup }
        if let baseline { detector.baselineMode = baseline }
        if let cooldown { policy.cooldownSteps = Int64(cooldown) }
        if let maxAlerts { policy.maxAlertsPerRun = maxAlerts }
        // Each value was checked where it came from; this is for combinations no single source made.
        if let problem = detector.problem {
            throw ConfigError(file: file ?? "settings", line: nil, message: problem)
        }
        let fewest = KLExplosionDetector.samplesBeforeAnyDecision
        if detector.rollingWindow < fewest {
            notes.append(
                "a rolling window of \(detector.rollingWindow) never alerts: rlwatch's detector (and so kltop's) "
                    + "decides only with \(fewest) samples in the window")
        }
        return ResolvedSettings(
            detector: detector, policy: policy, metric: metric.map(MetricSelection.key) ?? .automatic,
            notes: notes, channels: channels, configFile: file)
    }

    /// The first flag whose value cannot be used, as `--flag: why`: what the command line checks before
    /// anything runs, whichever way the value was written (`--sigma -1` or `--sigma=-1`).
    public var flagProblem: ConfigError? {
        func refuse(_ flag: String, _ message: String) -> ConfigError {
            ConfigError(file: flag, line: nil, message: message)
        }
        if let sigma, !(sigma.isFinite && sigma >= 0) {
            return refuse("--sigma", "must be a finite number ≥ 0 (got \(sigma))")
        }
        if let window, window < 1 { return refuse("--window", "must be at least 1 (got \(window))") }
        if let warmup, warmup < 0 { return refuse("--warmup", "must be ≥ 0 (got \(warmup))") }
        if let cooldown, cooldown < 0 { return refuse("--cooldown", "must be ≥ 0 (got \(cooldown))") }
        if let maxAlerts, maxAlerts < 0 { return refuse("--max-alerts", "must be ≥ 0 (got \(maxAlerts))") }
        if let metric, metric.isEmpty { return refuse("--metric", "the key is empty") }
        return nil
    }
}
