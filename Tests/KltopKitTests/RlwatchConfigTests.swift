import Foundation
import KLDetector
import TestSupport
import Testing

@testable import KltopKit

/// rlwatch.yaml: its kl_explosion and alerts sections, unknown keys reported, wrong types refused with the
/// file and line, the files rlwatch looks for, and flags over the file.
@Suite struct RlwatchConfigTests {
    static let full = """
        run_id: my-run
        entropy_collapse:
          threshold: 0.1
        kl_explosion:
          enabled: true
          sigma_multiplier: 2.5
          rolling_window: 50
          warmup_steps: 5
          baseline_mode: frozen
          clip_region: 0.3
          sigma: 4
        alerts:
          cooldown_steps: 10
          max_alerts_per_run: 7
          slack:
            webhook_url: https://example.invalid
          pager: yes
        storage:
          log_dir: ./rlwatch_logs
        """

    @Test func readsBothSectionsAndReportsUnknownKeysWithTheirLines() throws {
        let config = try RlwatchConfig.parse(Self.full, file: "rlwatch.yaml")
        #expect(config.sigmaMultiplier == 2.5 && config.rollingWindow == 50 && config.warmupSteps == 5)
        #expect(config.baselineMode == .frozen && config.clipRegion == 0.3 && config.enabled == true)
        #expect(config.cooldownSteps == 10 && config.maxAlertsPerRun == 7)
        #expect(
            config.warnings == [
                "rlwatch.yaml:11: unknown key kl_explosion.sigma ignored",
                "rlwatch.yaml:17: unknown key alerts.pager ignored",
            ])
        var settings = DetectorSettings()
        var policy = AlertPolicySettings()
        config.apply(to: &settings, policy: &policy)
        #expect(
            settings
                == DetectorSettings(
                    sigmaMultiplier: 2.5, rollingWindow: 50, warmupSteps: 5, baselineMode: .frozen,
                    clipRegion: 0.3))
        #expect(policy == AlertPolicySettings(cooldownSteps: 10, maxAlertsPerRun: 7))
    }

    @Test func wrongTypesAreErrorsNamingFileLineAndKey() {
        let cases: [(String, Int, String)] = [
            (
                "kl_explosion:\n  sigma_multiplier: lots\n", 2,
                "kl_explosion.sigma_multiplier must be a number"
            ),
            (
                "kl_explosion:\n  rolling_window: 10.5\n", 2,
                "kl_explosion.rolling_window must be a whole number"
            ),
            (
                "kl_explosion:\n  baseline_mode: sliding\n", 2,
                "kl_explosion.baseline_mode must be rolling or frozen"
            ),
            ("kl_explosion:\n  enabled: maybe\n", 2, "kl_explosion.enabled must be true or false"),
            ("alerts:\n  cooldown_steps: [1, 2]\n", 2, "alerts.cooldown_steps must be a whole number"),
            ("kl_explosion: 3\n", 1, "kl_explosion must be a mapping"),
        ]
        for (text, line, message) in cases {
            #expect {
                _ = try RlwatchConfig.parse(text, file: "cfg.yaml")
            } throws: { error in
                let problem = error as? ConfigError
                return problem?.line == line
                    && problem?.description.hasPrefix("cfg.yaml:\(line): \(message)") == true
            }
        }
        #expect(throws: ConfigError.self) {
            _ = try RlwatchConfig.parse("kl_explosion: [unclosed\n", file: "bad.yaml")
        }
    }

    /// YAML 1.1 merge keys, as PyYAML (and so rlwatch) reads them: a mapping or a list of mappings merged
    /// in, the section's own keys winning, an earlier mapping in the list winning over a later one.
    @Test func mergeKeysAreReadAsRlwatchReadsThem() throws {
        let simple = try RlwatchConfig.parse(
            "base: &b {sigma_multiplier: 100}\nkl_explosion: {<<: *b}\n", file: "cfg.yaml")
        #expect(simple.sigmaMultiplier == 100 && simple.warnings.isEmpty)
        let layered = try RlwatchConfig.parse(
            """
            base: &b {sigma_multiplier: 100, rolling_window: 40}
            more: &m {rolling_window: 60, warmup_steps: 7}
            kl_explosion:
              <<: [*b, *m]
              warmup_steps: 9
            alerts: {<<: {cooldown_steps: 12}}
            """, file: "cfg.yaml")
        // What PyYAML's safe_load gives for this text.
        #expect(layered.sigmaMultiplier == 100 && layered.rollingWindow == 40 && layered.warmupSteps == 9)
        #expect(layered.cooldownSteps == 12 && layered.warnings.isEmpty)
        #expect {
            _ = try RlwatchConfig.parse("kl_explosion:\n  <<: 3\n", file: "cfg.yaml")
        } throws: { error in
            (error as? ConfigError)?.description.hasPrefix("cfg.yaml:2: << must be a mapping") == true
        }
    }

    /// Each text, as a file named cfg.yaml, is refused with an error on its line 2 that starts with the
    /// message.
    static func expectRefused(_ cases: [(text: String, message: String)]) {
        for (text, message) in cases {
            #expect {
                _ = try RlwatchConfig.parse(text, file: "cfg.yaml")
            } throws: { error in
                (error as? ConfigError)?.description.hasPrefix("cfg.yaml:2: \(message)") == true
            }
        }
    }

    /// What rlwatch reads the same way is accepted; what it would crash on, or silently read as something
    /// else, is refused with the reason.
    @Test func valuesAreTypedAsRlwatchWouldUseThem() throws {
        let harmless = try RlwatchConfig.parse(
            """
            kl_explosion:
              enabled: yes
              sigma_multiplier: 4
              rolling_window: 1_00
              warmup_steps: 128.0
            alerts:
              cooldown_steps: 5.0
              max_alerts_per_run: 0
            """, file: "cfg.yaml")
        #expect(harmless.enabled == true && harmless.sigmaMultiplier == 4)
        #expect(harmless.rollingWindow == 100 && harmless.warmupSteps == 128)
        #expect(harmless.cooldownSteps == 5 && harmless.maxAlertsPerRun == 0)
        let refused: [(String, String)] = [
            (
                "kl_explosion:\n  baseline_mode: Frozen\n",
                "kl_explosion.baseline_mode must be rolling or frozen "
                    + "(got 'Frozen'; in lower case; rlwatch compares it exactly and would use rolling)"
            ),
            (
                "alerts:\n  cooldown_steps: -5\n",
                "alerts.cooldown_steps must be ≥ 0 (got '-5'; rlwatch would "
                    + "read it as no cooldown)"
            ),
            (
                "alerts:\n  max_alerts_per_run: -1\n",
                "alerts.max_alerts_per_run must be ≥ 0 (got '-1'; rlwatch "
                    + "would read it as no alert ever delivered)"
            ),
            ("kl_explosion:\n  warmup_steps: -1\n", "kl_explosion.warmup_steps must be ≥ 0"),
            (
                "kl_explosion:\n  enabled: \"false\"\n",
                "kl_explosion.enabled must be true or false "
                    + "(got 'false', a quoted string)"
            ),
            ("kl_explosion:\n  rolling_window: 0\n", "kl_explosion.rolling_window must be at least 1"),
            (
                "kl_explosion:\n  sigma_multiplier:\n",
                "kl_explosion.sigma_multiplier must be a number (got null)"
            ),
            (
                "kl_explosion:\n  sigma_multiplier: -2\n",
                "kl_explosion.sigma_multiplier must be a finite number"
            ),
            (
                "kl_explosion:\n  sigma_multiplier: 3\n  sigma_multiplier: 5\n",
                "'sigma_multiplier' written twice in one mapping (rlwatch would silently use the last): keep one"
            ),
        ]
        Self.expectRefused(refused)
    }

    /// PyYAML's own answers (Tests/Fixtures/pyyaml/make_scalars.py), replayed.
    @Test func plainScalarsAreTypedAsPyYAMLTypesThem() throws {
        struct Table: Decodable {
            struct Entry: Decodable {
                let text: String
                let type: String
                let value: PythonValue?
            }
            let scalars: [Entry]
        }
        enum PythonValue: Decodable {
            case bool(Bool)
            case text(String)
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let bool = try? container.decode(Bool.self) {
                    self = .bool(bool)
                } else {
                    self = .text(try container.decode(String.self))
                }
            }
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("pyyaml/scalars.json")))
        let table = try JSONDecoder().decode(Table.self, from: data)
        #expect(table.scalars.count > 80)
        for entry in table.scalars {
            let expected: PyYAMLScalar
            switch (entry.type, entry.value) {
            case ("NoneType", _): expected = .null
            case ("bool", .bool(let value)): expected = .bool(value)
            case ("int", .text(let digits)):
                expected = Int(digits).map(PyYAMLScalar.int) ?? .bigInt(Double(digits) ?? .nan)
            case ("float", .text(let repr)):
                // Python's repr: "inf", "-inf", "nan", or digits Double reads back exactly.
                expected = .float(
                    repr == "inf" ? .infinity : repr == "-inf" ? -.infinity : Double(repr) ?? .nan)
            case ("error", _): expected = .unreadable
            case ("str", _), ("other", _): expected = .text
            default:
                Issue.record("unexpected entry \(entry.text): \(entry.type)")
                continue
            }
            let got = PyYAMLScalar(plain: entry.text)
            if case .float(let want) = expected, want.isNaN {
                guard case .float(let value) = got, value.isNaN else {
                    Issue.record("'\(entry.text)': PyYAML nan, kltop \(got)")
                    continue
                }
                continue
            }
            if case .float(let want) = expected, case .float(let value) = got {
                #expect(
                    value.bitPattern == want.bitPattern, "'\(entry.text)': PyYAML \(want), kltop \(value)")
                continue
            }
            #expect(
                got == expected, "'\(entry.text)': PyYAML \(entry.type) \(String(describing: entry.value))")
        }
    }

    /// Where YAML 1.2 (Yams) and 1.1 (PyYAML, rlwatch) part ways, a setting means what it means to rlwatch,
    /// or is refused with the reason.
    @Test func settingsMeanWhatTheyMeanToRlwatch() throws {
        let read = try RlwatchConfig.parse(
            """
            kl_explosion:
              enabled: Off
              sigma_multiplier: 1.0e+1
              rolling_window: 0x20
              warmup_steps: 1:30
            alerts:
              cooldown_steps: 010
            """, file: "cfg.yaml")
        #expect(read.enabled == false && read.sigmaMultiplier == 10 && read.rollingWindow == 32)
        #expect(read.warmupSteps == 90 && read.cooldownSteps == 8)
        // Beyond 64 bits: a number to rlwatch (Python's integers have no bound), so the largest here.
        let huge = try RlwatchConfig.parse(
            """
            kl_explosion:
              sigma_multiplier: 100000000000000000000
              warmup_steps: 99999999999999999999
            alerts:
              max_alerts_per_run: 0x1_0000_0000_0000_0000
              cooldown_steps: 0
            """, file: "cfg.yaml")
        #expect(huge.sigmaMultiplier == 1e20 && huge.warmupSteps == .max && huge.maxAlertsPerRun == .max)
        // Quoted and block scalars are text, as to PyYAML; untagged plain ones are typed, so a quoted
        // baseline mode is still read.
        let quoted = try RlwatchConfig.parse("kl_explosion:\n  baseline_mode: \"frozen\"\n", file: "cfg.yaml")
        #expect(quoted.baselineMode == .frozen)
        let refused: [(String, String)] = [
            (
                "kl_explosion:\n  sigma_multiplier: 1e3\n",
                "kl_explosion.sigma_multiplier must be a number (got '1e3', which rlwatch reads as text, not a "
                    + "number: YAML 1.1, as rlwatch reads it, wants numbers written like 1000, 0.5 or 1.0e+3)"
            ),
            (
                "kl_explosion:\n  clip_region: -.5\n",
                "kl_explosion.clip_region must be a number (got '-.5', which"
            ),
            (
                "kl_explosion:\n  warmup_steps: 0o10\n",
                "kl_explosion.warmup_steps must be a whole number (got '0o10')"
            ),
            (
                "kl_explosion:\n  rolling_window: 100.0\n",
                "kl_explosion.rolling_window must be a whole number written without a decimal point "
                    + "(got '100.0'; rlwatch fails on a float here)"
            ),
            (
                "kl_explosion:\n  sigma_multiplier: yes\n",
                "kl_explosion.sigma_multiplier must be a number (got 'yes', which rlwatch reads as true)"
            ),
            (
                "alerts:\n  cooldown_steps: 0b_\n",
                "alerts.cooldown_steps must be a whole number (got '0b_', on which"
            ),
            (
                "kl_explosion:\n  rolling_window: 99999999999999999999\n",
                "kl_explosion.rolling_window is too large (got '99999999999999999999'; rlwatch fails on it)"
            ),
            (
                "alerts:\n  cooldown_steps: -99999999999999999999\n",
                "alerts.cooldown_steps must be ≥ 0 (got '-99999999999999999999'; rlwatch would read it as no"
            ),
            // An explicit tag: PyYAML constructs by it; rlwatch reads `!!str false` as true.
            (
                "kl_explosion:\n  enabled: !!str false\n",
                "kl_explosion.enabled is written with the YAML tag tag:yaml.org,2002:str (got 'false'): "
                    + "write the value without a tag"
            ),
            (
                "kl_explosion:\n  sigma_multiplier: !!float 1e1\n",
                "kl_explosion.sigma_multiplier is written with"
            ),
            (
                "kl_explosion:\n  rolling_window: !!int \"50\"\n",
                "kl_explosion.rolling_window is written with"
            ),
            (
                "kl_explosion:\n  baseline_mode: !custom frozen\n",
                "kl_explosion.baseline_mode is written with"
            ),
            (
                "kl_explosion:\n  baseline_mode: =\n",
                "kl_explosion.baseline_mode must be rolling or frozen (got '=', on which rlwatch's YAML reader fails)"
            ),
            ("kl_explosion:\n  enabled: y\n", "kl_explosion.enabled must be true or false (got 'y')"),
            (
                "kl_explosion:\n  sigma_multiplier: >-\n    5\n",
                "kl_explosion.sigma_multiplier must be a number (got '5', a block of text)"
            ),
        ]
        Self.expectRefused(refused)
    }

    @Test func anEmptyFileSetsNothing() throws {
        #expect(try RlwatchConfig.parse("", file: "empty.yaml") == RlwatchConfig())
        #expect(try RlwatchConfig.parse("kl_explosion:\n", file: "null.yaml").sigmaMultiplier == nil)
    }

    @Test func defaultFilesAreFoundInRlwatchsOrderAndFlagsWin() throws {
        let directory = try TemporaryDirectory.make("kltop-config")
        #expect(RlwatchConfig.findDefault(in: directory.path) == nil)
        try "kl_explosion:\n  sigma_multiplier: 9\n".write(
            to: directory.appendingPathComponent(".rlwatch.yaml"), atomically: true, encoding: .utf8)
        try "kl_explosion:\n  sigma_multiplier: 4\n  rolling_window: 30\n".write(
            to: directory.appendingPathComponent("rlwatch.yml"), atomically: true, encoding: .utf8)
        #expect(RlwatchConfig.findDefault(in: directory.path) == directory.path + "/rlwatch.yml")
        let fromFile = try SettingsOverrides().resolve(defaultConfigDirectory: directory.path)
        #expect(fromFile.detector.sigmaMultiplier == 4 && fromFile.detector.rollingWindow == 30)
        let flagsWin = try SettingsOverrides(sigma: 2, cooldown: 5).resolve(
            defaultConfigDirectory: directory.path)
        #expect(flagsWin.detector.sigmaMultiplier == 2 && flagsWin.detector.rollingWindow == 30)
        #expect(flagsWin.policy.cooldownSteps == 5)
    }

    @Test func impossibleSettingsAreRefused() {
        #expect(throws: ConfigError.self) {
            _ = try SettingsOverrides(window: 0).resolve(defaultConfigDirectory: "/nonexistent")
        }
        #expect(throws: ConfigError.self) {
            _ = try SettingsOverrides(sigma: -1).resolve(defaultConfigDirectory: "/nonexistent")
        }
        #expect(throws: ConfigError.self) {
            _ = try SettingsOverrides(cooldown: -1).resolve(defaultConfigDirectory: "/nonexistent")
        }
        #expect(throws: ConfigError.self) {
            _ = try SettingsOverrides(metric: "").resolve(defaultConfigDirectory: "/nonexistent")
        }
        #expect(throws: ConfigError.self) {
            _ = try SettingsOverrides(configPath: "/nonexistent/rlwatch.yaml").resolve()
        }
    }

    /// What YAML itself cannot give kltop a reading of is refused with its line: aliases that expand past the
    /// bound, an alias without its anchor, a second document, bytes that are not UTF-8.
    @Test func documentsKltopCannotReadAreRefusedWithTheirLine() throws {
        var bomb = "a0: &a0 [lol]\n"
        for level in 1...9 {
            bomb +=
                "a\(level): &a\(level) ["
                + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
                + "]\n"
        }
        let cases: [(text: String, line: Int, message: String)] = [
            // a5 stands for 1 + 9 × 13 942 nodes: over the bound, on its line.
            (bomb, 6, "is refused: the document stands for more than 100000 nodes"),
            ("kl_explosion:\n  sigma_multiplier: *s\n", 2, "is not valid YAML: alias *s names no anchor"),
            ("kl_explosion: {}\n---\nalerts: {}\n", 2, "is not valid YAML: a second document"),
        ]
        for (text, line, message) in cases {
            #expect {
                _ = try RlwatchConfig.parse(text, file: "cfg.yaml")
            } throws: { error in
                (error as? ConfigError)?.description.hasPrefix("cfg.yaml:\(line): \(message)") == true
            }
        }
        let path = NSTemporaryDirectory() + "kltop-latin1-\(getpid()).yaml"
        try Data(
            "kl_explosion:\n  baseline_mode: r\u{E9}el\n".utf8.map { $0 == 0xC3 ? 0xE9 : $0 }.filter {
                $0 != 0xA9
            }
        )
        .write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        #expect(throws: ConfigError(file: path, line: nil, message: "is not UTF-8 text")) {
            _ = try RlwatchConfig.load(path: path)
        }
    }
}
