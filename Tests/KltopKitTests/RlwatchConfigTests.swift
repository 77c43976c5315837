import Foundation
import KLDetector
import KltopKit
import TestSupport
import Testing

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
}
