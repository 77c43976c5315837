import Dashboard
import KLDetector
import KltopKit
import YAMLNodes

/// The YAML files kltop reads: rlwatch.yaml and colour themes. Both are read only as UTF-8 text (their
/// loaders refuse anything else before parsing), so other inputs are skipped.
enum ConfigHarnesses {
    /// An rlwatch.yaml is refused with the file and a line inside the text, or read; settings read from
    /// it that pass kltop's checks (those of `SettingsOverrides.resolve`) make a detector that runs.
    static func rlwatchConfig(_ input: [UInt8]) throws(InvariantViolation) {
        guard let text = String(validating: input, as: UTF8.self) else { return }
        let config: RlwatchConfig
        do {
            config = try RlwatchConfig.parse(text, file: "rlwatch.yaml")
        } catch {
            try require(
                error.file == "rlwatch.yaml" && isWithin(error.line, text),
                "refused with a line outside the text: \(error)")
            return
        }
        try require(
            config.warnings.allSatisfy { $0.hasPrefix("rlwatch.yaml") }, "warnings \(config.warnings)")
        var settings = DetectorSettings()
        var policy = AlertPolicySettings()
        config.apply(to: &settings, policy: &policy)
        guard settings.problem == nil, policy.cooldownSteps >= 0, policy.maxAlertsPerRun >= 0 else { return }
        var detector = KLExplosionDetector(settings: settings)
        var alerts = AlertPolicy(settings: policy)
        for step in 0..<40 {
            let value = step == 30 ? 5.0 : 0.02 + Double(step % 7) / 1000
            if let alert = detector.check(step: Int64(step), value: value)?.alert(
                clipRegion: settings.clipRegion)
            {
                _ = alerts.admit(alert)
            }
        }
    }

    /// A theme is refused with the file and a line inside the text, or read into a theme with a name, from
    /// which every role's style at every colour depth can be taken.
    static func theme(_ input: [UInt8]) throws(InvariantViolation) {
        guard let text = String(validating: input, as: UTF8.self) else { return }
        let theme: Theme
        do {
            theme = try Theme.parse(text, file: "theme.yaml")
        } catch {
            try require(
                error.file == "theme.yaml" && isWithin(error.line, text),
                "refused with a line outside the text: \(error)")
            return
        }
        try require(!theme.name.isEmpty && theme.source == "theme.yaml", "read as \(theme)")
        for role in ColorRole.allCases {
            for depth in ColorDepth.allCases { _ = theme.style(for: role, depth: depth) }
        }
    }

    /// Any bytes (UTF-8 or not) are refused with a place inside the text, or composed into a tree whose
    /// every node is marked inside the text and which, aliases expanded, holds no more nodes than the bound.
    static func yaml(_ input: [UInt8]) throws(InvariantViolation) {
        let root: YAMLNode?
        let text = String(decoding: input, as: UTF8.self)
        do {
            root = try YAMLNode.compose(bytes: input)
        } catch {
            try require(isWithin(error.mark?.line, text), "refused with a place outside the text: \(error)")
            return
        }
        var pending = root.map { [$0] } ?? []
        var visited = 0
        while let node = pending.popLast() {
            visited += 1
            try require(visited <= YAMLNode.maximumExpandedNodes, "more nodes than the bound")
            try require(
                isWithin(node.mark.line, text) && node.mark.column >= 1, "a node marked at \(node.mark)")
            switch node.content {
            case .scalar: continue
            case .sequence(let items): pending += items
            case .mapping(let pairs): pending += pairs.flatMap { [$0.key, $0.value] }
            }
        }
    }

    /// Whether a line number reported by the YAML parser (1-based) is within the text, or absent. YAML
    /// breaks lines at `\n`, `\r`, and the Unicode line and paragraph separators and NEL; an error may
    /// point just past the last line.
    static func isWithin(_ line: Int?, _ text: String) -> Bool {
        guard let line else { return true }
        let breaks = text.unicodeScalars.count { "\n\r\u{85}\u{2028}\u{2029}".unicodeScalars.contains($0) }
        return line >= 1 && line <= breaks + 2
    }
}
