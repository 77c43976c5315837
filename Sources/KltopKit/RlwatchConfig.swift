import Foundation
import KLDetector
import Yams

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
    /// Keys in the two sections that rlwatch does not know, as `file:line: key` notes.
    public var warnings: [String] = []

    public init() {}

    /// The file names rlwatch looks for in the current directory when no config is given, in its order.
    public static let defaultFileNames = ["rlwatch.yaml", "rlwatch.yml", ".rlwatch.yaml"]

    /// The first of ``defaultFileNames`` that exists in `directory`.
    public static func findDefault(in directory: String = ".") -> String? {
        defaultFileNames.map { directory == "." ? $0 : directory + "/" + $0 }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    public static func load(path: String) throws(ConfigError) -> RlwatchConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                throw ConfigError(file: path, line: nil, message: "no such file")
            }
            throw ConfigError(
                file: path, line: nil, message: isDirectory.boolValue ? "is a directory" : "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, message: "is not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> RlwatchConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(file: file, line: Self.line(of: error), message: "is not valid YAML: \(error)")
        }
        var config = RlwatchConfig()
        guard let root else { return config }  // an empty file sets nothing, as in rlwatch
        guard let top = root.mapping else {
            throw ConfigError(file: file, line: root.mark?.line, message: "must be a mapping of sections")
        }
        var reader = SectionReader(file: file)
        for (key, value) in top {
            switch key.string {
            case "kl_explosion": try reader.readKLExplosion(value, into: &config)
            case "alerts": try reader.readAlerts(value, into: &config)
            default: continue  // other detectors, storage, dashboard: not kltop's business
            }
        }
        config.warnings = reader.warnings
        return config
    }

    private static func line(of error: Error) -> Int? {
        if case YamlError.scanner(_, _, let mark, _) = error { return mark.line }
        if case YamlError.parser(_, _, let mark, _) = error { return mark.line }
        return nil
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
private struct SectionReader {
    let file: String
    var warnings: [String] = []

    mutating func readKLExplosion(_ node: Node, into config: inout RlwatchConfig) throws(ConfigError) {
        for (key, value) in try mapping(node, "kl_explosion") {
            let name = key.string ?? ""
            let path = "kl_explosion.\(name)"
            switch name {
            case "enabled": config.enabled = try bool(value, path)
            case "sigma_multiplier": config.sigmaMultiplier = try number(value, path)
            case "clip_region": config.clipRegion = try number(value, path)
            case "rolling_window": config.rollingWindow = try integer(value, path)
            case "warmup_steps": config.warmupSteps = try integer(value, path)
            case "baseline_mode":
                guard let text = value.string, let mode = BaselineMode(rawValue: text) else {
                    throw problem(value, "\(path) must be rolling or frozen (got \(describe(value)))")
                }
                config.baselineMode = mode
            default: warnUnknown(key, path)
            }
        }
    }

    mutating func readAlerts(_ node: Node, into config: inout RlwatchConfig) throws(ConfigError) {
        for (key, value) in try mapping(node, "alerts") {
            let name = key.string ?? ""
            let path = "alerts.\(name)"
            switch name {
            case "cooldown_steps": config.cooldownSteps = try integer(value, path)
            case "max_alerts_per_run": config.maxAlertsPerRun = try integer(value, path)
            case "slack", "email", "discord", "webhook":
                continue  // delivery channels: rlwatch's business, not kltop's
            default: warnUnknown(key, path)
            }
        }
    }

    private mutating func warnUnknown(_ key: Node, _ path: String) {
        let location = key.mark.map { "\(file):\($0.line)" } ?? file
        warnings.append("\(location): unknown key \(path) ignored")
    }

    private func mapping(_ node: Node, _ section: String) throws(ConfigError) -> Node.Mapping {
        if let mapping = node.mapping { return mapping }
        if node.null != nil { return Node.Mapping([]) }
        throw problem(node, "\(section) must be a mapping of settings")
    }

    private func number(_ node: Node, _ path: String) throws(ConfigError) -> Double {
        guard node.scalar != nil, let value = node.float, node.bool == nil else {
            throw problem(node, "\(path) must be a number (got \(describe(node)))")
        }
        return value
    }

    private func integer(_ node: Node, _ path: String) throws(ConfigError) -> Int {
        guard node.scalar != nil, let value = node.int, node.bool == nil else {
            throw problem(node, "\(path) must be a whole number (got \(describe(node)))")
        }
        return value
    }

    private func bool(_ node: Node, _ path: String) throws(ConfigError) -> Bool {
        guard let value = node.bool else {
            throw problem(node, "\(path) must be true or false (got \(describe(node)))")
        }
        return value
    }

    private func describe(_ node: Node) -> String {
        if let scalar = node.scalar { return "'\(scalar.string)'" }
        return node.mapping != nil ? "a mapping" : "a list"
    }

    private func problem(_ node: Node, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, message: message)
    }
}
