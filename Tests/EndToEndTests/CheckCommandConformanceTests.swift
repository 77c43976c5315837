import Foundation
import TestSupport
import Testing

/// Every rlwatch-decided case through the `kltop check` binary, in both alert modes.
@Suite struct CheckCommandConformanceTests {
    static let cases = (try? Fixtures.detectorCases()) ?? []

    @Test(arguments: cases)
    func checkPrintsRlwatchsAlerts(_ testCase: DetectorCase) throws {
        let settings = [
            "--sigma", "\(testCase.sigmaMultiplier)", "--window", "\(testCase.rollingWindow)",
            "--warmup", "\(testCase.warmupSteps)", "--baseline", testCase.baselineMode, "--format", "jsonl",
        ]
        for (raw, expected) in [(true, testCase.raw), (false, testCase.delivered)] {
            let result = try Kltop.run(["check"] + settings + (raw ? ["--raw"] : []) + [testCase.logPath])
            let alerts = try result.standardOutput.split(separator: "\n").map {
                try Self.alert(fromLine: String($0))
            }
            #expect(alerts.count == expected.count, "\(raw ? "raw" : "delivered"): \(result.standardError)")
            for (mine, theirs) in zip(alerts, expected) where !mine.matches(theirs) {
                Issue.record("kltop \(mine)\nrlwatch \(theirs)")
                break
            }
            let hasCritical = expected.contains { $0.severity == "critical" }
            let expectedStatus: Int32 = hasCritical ? 2 : (expected.isEmpty ? 0 : 1)
            #expect(result.status == expectedStatus)
        }
    }

    static func alert(fromLine line: String) throws -> ExpectedAlert {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["detector"] as? String == "kl_explosion")
        #expect(json["run"] is String && json["metric"] is String)
        return ExpectedAlert(
            step: (json["step"] as! NSNumber).int64Value, severity: json["severity"] as! String,
            klDivergence: ExpectedAlert.number(json["kl_divergence"]),
            rollingMean: ExpectedAlert.number(json["rolling_mean"]),
            rollingStd: ExpectedAlert.number(json["rolling_std"]),
            zScore: ExpectedAlert.number(json["z_score"]))
    }
}
