import Foundation
import KLDetector
import KltopKit
import RunLogs
import TestSupport
import Testing

/// Every rlwatch-decided case, replayed through the reader, the detector and the alert policy.
@Suite struct ConformanceTests {
    static let cases = (try? Fixtures.detectorCases()) ?? []

    @Test func thereAreCasesToReplay() {
        #expect(Self.cases.count >= 12 + 20)
    }

    /// The shared folder is the source of truth: a case updated there is replayed as updated, not as the
    /// repository's older copy of it.
    @Test func aSharedCaseWinsOverTheRepositoryCopyOfTheSameName() throws {
        let root = try TemporaryDirectory.make("kltop-conformance-folders")
        let shared = root.appendingPathComponent("shared")
        let copies = root.appendingPathComponent("copies")
        for (folder, window) in [(shared, 7), (copies, 5)] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Self.expected(window: window).write(
                to: folder.appendingPathComponent("case.expected.json"), atomically: true, encoding: .utf8)
        }
        try Self.expected(window: 9).write(
            to: copies.appendingPathComponent("only_copied.expected.json"), atomically: true, encoding: .utf8)
        let cases = try Fixtures.detectorCases(in: [shared.path, copies.path, root.path + "/absent"])
        #expect(cases.map(\.name) == ["case", "only_copied"])
        #expect(cases.first?.rollingWindow == 7 && cases.first?.logPath == shared.path + "/case.jsonl")
        #expect(cases.last?.logPath == copies.path + "/only_copied.jsonl")
        for testCase in try Fixtures.detectorCases()
        where FileManager.default.fileExists(
            atPath: Fixtures.sharedConformance + "/" + testCase.name + ".expected.json")
        {
            #expect(testCase.logPath.hasPrefix(Fixtures.sharedConformance + "/"), "\(testCase.name)")
        }
    }

    static func expected(window: Int) -> String {
        """
        {"metric_key": "kl", "config": {"sigma_multiplier": 3.0, "rolling_window": \(window), \
        "warmup_steps": 20, "baseline_mode": "rolling"}, "raw": [], "delivered": []}
        """
    }

    @Test(arguments: cases)
    func libraryMakesRlwatchsDecisions(_ testCase: DetectorCase) throws {
        let settings = DetectorSettings(
            sigmaMultiplier: testCase.sigmaMultiplier, rollingWindow: testCase.rollingWindow,
            warmupSteps: testCase.warmupSteps,
            baselineMode: try #require(BaselineMode(rawValue: testCase.baselineMode)))
        var monitor = RunMonitor(name: testCase.name, detector: settings, policy: AlertPolicySettings())
        let selection: MetricSelection =
            MetricKeys.klAliases.contains(testCase.metricKey) ? .automatic : .key(testCase.metricKey)
        var reader = JSONLReader(metric: selection)
        var raw: [ExpectedAlert] = []
        var delivered: [ExpectedAlert] = []
        try LogFile.read(path: testCase.logPath, into: &reader) { sample in
            guard let observation = monitor.observe(sample), let alert = observation.alert else { return }
            let row = ExpectedAlert(
                step: alert.step, severity: alert.severity.rawValue, klDivergence: alert.klDivergence,
                rollingMean: alert.rollingMean, rollingStd: alert.rollingStd, zScore: alert.zScore)
            raw.append(row)
            if observation.isDelivered { delivered.append(row) }
        }
        #expect(reader.metricKey == testCase.metricKey)
        #expect(reader.statistics.badLines == 0)
        Self.expectSame(raw, testCase.raw, "raw")
        Self.expectSame(delivered, testCase.delivered, "delivered")
    }

    static func expectSame(_ actual: [ExpectedAlert], _ expected: [ExpectedAlert], _ label: String) {
        #expect(
            actual.count == expected.count, "\(label): \(actual.count) alerts, rlwatch had \(expected.count)")
        for (mine, theirs) in zip(actual, expected) where !mine.matches(theirs) {
            Issue.record("\(label): kltop \(mine)\n   rlwatch \(theirs)")
            return
        }
    }
}
