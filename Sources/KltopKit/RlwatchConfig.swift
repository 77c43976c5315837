import KLDetector
import YAMLNodes

/// Settings from an rlwatch.yaml: its `kl_explosion` and `alerts` sections. Each field is nil when the file
/// does not set it, so that command-line flags can be layered on top (flags win, as in rlwatch's
/// `load_config(**overrides)`).
public struct RlwatchConfig: Sendable, Equatable {
    public var enabled: Bool?
    public var sigmaMultiplier: Double?
    public var clipRegion: Double?
    public var rollingWindow: Int?
    public var warmupSteps: Int?
    public var baselineMode: BaselineMode?
    public var cooldownSteps: Int?
    public var maxAlertsPerRun: Int?
    /// The `alerts` section's delivery channels (Slack, Discord, webhook, email), as the file sets them.
    public var channels = RlwatchChannelSections()
    /// Keys in the two sections that rlwatch does not know, as `file:line: key` notes.
    public var warnings: [String] = []

    public init() {}

    /// The file names rlwatch looks for in the current directory when no config is given, in its order.
    public static let defaultFileNames = ["rlwatch.yaml", "rlwatch.yml", ".rlwatch.yaml"]

    /// The first of ``defaultFileNames`` that exists in `directory`.
    public static func findDefault(in directory: String = ".") -> String? {
        defaultFileNames.map { directory == "." ? $0 : directory + "/" + $0 }
            .first(where: TextFile.exists)
    }

    public static func load(path: String) throws(ConfigError) -> RlwatchConfig {
        let bytes: [UInt8]
        switch TextFile.read(path) {
        case .success(let read): bytes = read
        case .failure(let problem): throw ConfigError(file: path, line: nil, message: problem.description)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: path, line: nil, message: "is not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> RlwatchConfig {
        let root: YAMLNode?
        do {
            root = try YAMLNode.compose(text)
        } catch {
            if case .duplicateKeys(let keys) = error.kind {
                // PyYAML keeps the last of two equal keys without a word; a setting written twice is more
                // likely an edit that missed the other than a choice, and YAML itself forbids it.
                throw ConfigError(
                    file: file, line: error.mark?.line,
                    message: "\(keys.map { "'\($0)'" }.joined(separator: ", ")) written twice in one mapping "
                        + "(rlwatch would silently use the last): keep one")
            }
            let refusal = error.kind == .tooLarge ? "is refused" : "is not valid YAML"
            throw ConfigError(file: file, line: error.mark?.line, message: "\(refusal): \(error)")
        }
        var config = RlwatchConfig()
        guard let root else { return config }  // an empty file sets nothing, as in rlwatch
        guard root.mapping != nil else {
            throw ConfigError(file: file, line: root.mark.line, message: "must be a mapping of sections")
        }
        var reader = SectionReader(file: file)
        for (key, value) in try reader.settings(of: root, "the file") {
            switch key.string {
            case "kl_explosion": try reader.readKLExplosion(value, into: &config)
            case "alerts": try reader.readAlerts(value, into: &config)
            default: continue  // other detectors, storage, dashboard: not kltop's business
            }
        }
        config.warnings = reader.warnings
        return config
    }

    /// Applies the file's settings on top of `settings`.
    public func apply(to settings: inout DetectorSettings, policy: inout AlertPolicySettings) {
        if let enabled { settings.enabled = enabled }
        if let sigmaMultiplier { settings.sigmaMultiplier = sigmaMultiplier }
        if let clipRegion { settings.clipRegion = clipRegion }
        if let rollingWindow { settings.rollingWindow = rollingWindow }
        if let warmupSteps { settings.warmupSteps = warmupSteps }
        if let baselineMode { settings.baselineMode = baselineMode }
        if let cooldownSteps { policy.cooldownSteps = Int64(cooldownSteps) }
        if let maxAlertsPerRun { policy.maxAlertsPerRun = maxAlertsPerRun }
    }
}

/// A config file kltop cannot use, with where and why.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Reads the two sections kltop uses, with typed values and line numbers in every complaint.
///
/// Values are typed as PyYAML types them (``PyYAMLScalar``), as rlwatch reads them. Where rlwatch (PyYAML,
/// then plain attribute assignment) and kltop could still read a value differently, kltop accepts what means
/// the same to both (`128.0` for 128 steps of warmup) and refuses, saying why, what rlwatch would crash on
/// (`sigma_multiplier: 1e3`, which is text in YAML 1.1; `rolling_window: 100.0`) or silently read as
/// something else (`baseline_mode: Frozen` is rolling to rlwatch, a negative `max_alerts_per_run` delivers
/// nothing, `enabled: "false"` is true).
struct SectionReader {
    let file: String
    var warnings: [String] = []

    mutating func readKLExplosion(_ node: YAMLNode, into config: inout RlwatchConfig) throws(ConfigError) {
        for (key, value) in try settings(of: node, "kl_explosion") {
            let name = key.string ?? ""
            let path = "kl_explosion.\(name)"
            switch name {
            case "enabled": config.enabled = try bool(value, path)
            case "sigma_multiplier":
                let sigma = try number(value, path)
                guard sigma.isFinite && sigma >= 0 else {
                    throw problem(value, "\(path) must be a finite number ≥ 0 (got \(describe(value)))")
                }
                config.sigmaMultiplier = sigma
            case "clip_region": config.clipRegion = try number(value, path)
            case "rolling_window":
                let window = try integer(value, path, sizesAContainer: true)
                guard window >= 1 else {
                    throw problem(
                        value,
                        "\(path) must be at least 1 (got \(describe(value)); rlwatch would never alert)")
                }
                config.rollingWindow = window
            case "warmup_steps":
                config.warmupSteps = try count(value, path, rlwatchReadsNegativeAs: "no warmup")
            case "baseline_mode":
                let typed = try pythonValue(value, path)
                guard case .text? = typed, let text = value.string, let mode = BaselineMode(rawValue: text)
                else {
                    let hint =
                        typed == .unreadable
                        ? ""
                        : value.string.flatMap { BaselineMode(rawValue: $0.lowercased()) } != nil
                            ? "; in lower case; rlwatch compares it exactly and would use rolling"
                            : "; rlwatch would use rolling"
                    throw problem(
                        value, "\(path) must be rolling or frozen (got \(describe(value))\(hint))")
                }
                config.baselineMode = mode
            default: warnUnknown(key, path)
            }
        }
    }

    mutating func readAlerts(_ node: YAMLNode, into config: inout RlwatchConfig) throws(ConfigError) {
        for (key, value) in try settings(of: node, "alerts") {
            let name = key.string ?? ""
            let path = "alerts.\(name)"
            switch name {
            case "cooldown_steps":
                config.cooldownSteps = try count(value, path, rlwatchReadsNegativeAs: "no cooldown")
            case "max_alerts_per_run":
                config.maxAlertsPerRun = try count(
                    value, path, rlwatchReadsNegativeAs: "no alert ever delivered")
            case "slack": config.channels.slack = try readSlack(value)
            case "discord": config.channels.discord = try readDiscord(value)
            case "webhook": config.channels.webhook = try readWebhook(value)
            case "email": config.channels.email = try readEmail(value)
            default: warnUnknown(key, path)
            }
        }
    }

    mutating func warnUnknown(_ key: YAMLNode, _ path: String) {
        let location = "\(file):\(key.mark.line)"
        warnings.append("\(location): unknown key \(path) ignored")
    }

    /// The key–value pairs of a section, with YAML merge keys resolved as PyYAML resolves them; an empty
    /// section (`kl_explosion:` alone) has none.
    func settings(of node: YAMLNode, _ section: String) throws(ConfigError)
        -> [(key: YAMLNode, value: YAMLNode)]
    {
        if let mapping = node.mapping { return try pairs(of: mapping) }
        if node.isNull { return [] }
        throw problem(node, "\(section) must be a mapping of settings")
    }

    /// A mapping's pairs with its merge keys (`<<: *base`, `<<: [*a, *b]`) replaced by the merged mappings'
    /// pairs, each key once: its own keys win over merged ones, and an earlier mapping in a list over a later
    /// one (YAML 1.1's merge type, as PyYAML and so rlwatch read it).
    private func pairs(of mapping: [(key: YAMLNode, value: YAMLNode)]) throws(ConfigError)
        -> [(key: YAMLNode, value: YAMLNode)]
    {
        var merged: [(key: YAMLNode, value: YAMLNode)] = []
        var own: [(key: YAMLNode, value: YAMLNode)] = []
        for pair in mapping {
            guard pair.key.isMergeKey else {
                own.append(pair)
                continue
            }
            var bases: [YAMLNode] = [pair.value]
            if let list = pair.value.sequence { bases = list.reversed() }
            for base in bases {
                guard let baseMapping = base.mapping else {
                    throw problem(base, "<< must be a mapping or a list of mappings (got \(describe(base)))")
                }
                merged += try pairs(of: baseMapping)
            }
        }
        // Each key where it comes last, in that order: found from the end, so that a merge of many keys is
        // not quadratic. (Keys compare by text; every non-scalar key is the same, nil, as before.)
        var seen = Set<String?>()
        var result: [(key: YAMLNode, value: YAMLNode)] = []
        for pair in (merged + own).reversed() where seen.insert(pair.key.string).inserted {
            result.append(pair)
        }
        return result.reversed()
    }

    /// The scalar as rlwatch has it (``PyYAMLScalar``): a plain one typed as PyYAML types it, a quoted or
    /// block one text; nil for a mapping or a list. A value with an explicit tag (`!!float 1e1`, `!!str
    /// false`) is refused: PyYAML would construct it by the tag (and rlwatch read `!!str false` as true).
    func pythonValue(_ node: YAMLNode, _ path: String) throws(ConfigError) -> PyYAMLScalar? {
        guard let scalar = node.scalar else { return nil }
        // The tag as written: none, for nearly every value.
        if scalar.tag == nil && scalar.style == .plain {
            return PyYAMLScalar(plain: scalar.string)
        }
        // Quoted and block scalars are text, also when tagged so; a plain one tagged so was written `!!str`.
        if scalar.style != .plain && (scalar.tag == nil || scalar.tag == YAMLTag.str) {
            return .text
        }
        throw problem(
            node,
            "\(path) is written with the YAML tag \(scalar.tag ?? "") (got '\(scalar.string)'): "
                + "write the value without a tag")
    }

    func number(_ node: YAMLNode, _ path: String) throws(ConfigError) -> Double {
        switch try pythonValue(node, path) {
        case .int(let value): return Double(value)
        case .bigInt(let value), .float(let value): return value
        default: throw problem(node, "\(path) must be a number (got \(describe(node)))")
        }
    }

    /// A whole number. An integral float (`128.0`) is taken as the integer it is, and one beyond 64 bits as
    /// the largest, where rlwatch only compares with it; `sizesAContainer` where rlwatch fails on either
    /// (the rolling window sizes a deque).
    func integer(_ node: YAMLNode, _ path: String, sizesAContainer: Bool = false) throws(ConfigError)
        -> Int
    {
        switch try pythonValue(node, path) {
        case .int(let value): return value
        case .float(let value) where !sizesAContainer:
            if let value = Int(exactly: value) { return value }
        case .bigInt(let value) where !sizesAContainer: return value < 0 ? .min : .max
        case .float where sizesAContainer:
            throw problem(
                node,
                "\(path) must be a whole number written without a decimal point (got \(describe(node)); "
                    + "rlwatch fails on a float here)")
        case .bigInt where sizesAContainer:
            throw problem(node, "\(path) is too large (got \(describe(node)); rlwatch fails on it)")
        default: break
        }
        throw problem(node, "\(path) must be a whole number (got \(describe(node)))")
    }

    /// A whole number ≥ 0. rlwatch reads a negative one as something else without a word; kltop says so.
    private func count(_ node: YAMLNode, _ path: String, rlwatchReadsNegativeAs meaning: String)
        throws(ConfigError) -> Int
    {
        let value = try integer(node, path)
        guard value >= 0 else {
            throw problem(
                node, "\(path) must be ≥ 0 (got \(describe(node)); rlwatch would read it as \(meaning))")
        }
        return value
    }

    func bool(_ node: YAMLNode, _ path: String) throws(ConfigError) -> Bool {
        guard case .bool(let value) = try pythonValue(node, path) else {
            throw problem(node, "\(path) must be true or false (got \(describe(node)))")
        }
        return value
    }

    /// The value as written, and what rlwatch makes of it when that is not what it looks like.
    func describe(_ node: YAMLNode) -> String {
        guard let scalar = node.scalar else { return node.mapping != nil ? "a mapping" : "a list" }
        switch try? pythonValue(node, "") {
        case .null: return "null"
        case .bool(let value): return "'\(scalar.string)', which rlwatch reads as \(value ? "true" : "false")"
        case .text where scalar.style == .singleQuoted || scalar.style == .doubleQuoted:
            return "'\(scalar.string)', a quoted string"
        case .text where scalar.style != .plain: return "'\(scalar.string)', a block of text"
        case .text where Double(scalar.string) != nil:
            return
                "'\(scalar.string)', which rlwatch reads as text, not a number: YAML 1.1, as rlwatch reads "
                + "it, wants numbers written like 1000, 0.5 or 1.0e+3"
        case .unreadable: return "'\(scalar.string)', on which rlwatch's YAML reader fails"
        default: return "'\(scalar.string)'"
        }
    }

    func problem(_ node: YAMLNode, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark.line, message: message)
    }
}
