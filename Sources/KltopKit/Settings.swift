import KLDetector
import RunLogs

/// The settings every command runs with, resolved from defaults, then an rlwatch.yaml, then flags.
public struct ResolvedSettings: Sendable {
    public var detector: DetectorSettings
    public var policy: AlertPolicySettings
    public var metric: MetricSelection
    /// Notes for the user (unknown config keys), already worded.
    public var notes: [String]
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
        var detector = DetectorSettings()
        var policy = AlertPolicySettings()
        var notes: [String] = []
        let file = configPath ?? RlwatchConfig.findDefault(in: directory)
        if let file {
            let config = try RlwatchConfig.load(path: file)
            config.apply(to: &detector, policy: &policy)
            notes += config.warnings
        }
        if let sigma { detector.sigmaMultiplier = sigma }
        if let window { detector.rollingWindow = window }
        if let warmup { detector.warmupSteps = warmup }
        if let baseline { detector.baselineMode = baseline }
        if let cooldown { policy.cooldownSteps = Int64(cooldown) }
        if let maxAlerts { policy.maxAlertsPerRun = maxAlerts }
        let source = file ?? "settings"
        if let problem = detector.problem { throw ConfigError(file: source, line: nil, message: problem) }
        if policy.cooldownSteps < 0 {
            throw ConfigError(
                file: source, line: nil, message: "cooldown must be ≥ 0 (got \(policy.cooldownSteps))")
        }
        if policy.maxAlertsPerRun < 0 {
            throw ConfigError(
                file: source, line: nil, message: "max alerts must be ≥ 0 (got \(policy.maxAlertsPerRun))")
        }
        if let metric, metric.isEmpty {
            throw ConfigError(file: "--metric", line: nil, message: "the key is empty")
        }
        return ResolvedSettings(
            detector: detector, policy: policy, metric: metric.map(MetricSelection.key) ?? .automatic,
            notes: notes)
    }
}
