import Foundation
import KLDetector
import KltopKit
import RunLogs
import TestSupport
import Testing

/// `kltop check` on every kind of log, through the library: formats recognised from content, TensorBoard
/// directories, rlwatch's store.
@Suite struct CheckFormatsTests {
    struct Outcome {
        var status: CheckStatus
        /// "run@step severity" for each alert printed.
        var alerts: [String]
        var diagnostics: [String]
    }

    /// A short window, so that the fixtures' early spikes are decided.
    static func check(
        _ paths: [String], inputFormat: LogFormat? = nil, metric: MetricSelection = .automatic
    ) -> Outcome {
        let request = CheckRequest(
            paths: paths, detector: DetectorSettings(rollingWindow: 20, warmupSteps: 10), metric: metric,
            format: .jsonl, inputFormat: inputFormat)
        nonisolated(unsafe) var lines: [String] = []
        nonisolated(unsafe) var diagnostics: [String] = []
        let status = Checker.run(
            request, to: CheckOutput(output: { lines.append($0) }, diagnostics: { diagnostics.append($0) }))
        let alerts = lines.compactMap { line -> String? in
            guard let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            return
                "\(json["run"] as? String ?? "?")@\(json["step"] as? Int ?? -1) \(json["severity"] as? String ?? "?")"
        }
        return Outcome(status: status, alerts: alerts, diagnostics: diagnostics)
    }

    static func fixture(_ relative: String) -> String { Fixtures.path("formats/" + relative) }

    @Test func aTensorBoardDirectoryIsARunPerFolder() {
        let outcome = Self.check([Self.fixture("tensorboard")])
        #expect(
            outcome.alerts == [
                "run_a@42 critical", "single_run@137 critical", "split_run@90 critical",
                "tb_summary_writer@60 critical",
                "tensor_content_handbuilt@60 critical",
            ])
        #expect(outcome.status == .critical)
        // Its last event is cut by the end of the file: still being written, not a bad record.
        #expect(
            outcome.diagnostics.contains {
                $0.contains("truncated_tail: its last record is incomplete (")
            })
        #expect(!outcome.diagnostics.contains { $0.contains("truncated_tail: skipped") })
    }

    @Test(arguments: [
        ("sb3/progress.csv", "sb3@53248 critical"),
        ("lightning/lightning_logs/version_0/metrics.csv", "version_0@45 critical"),
        ("console/hf_trainer_tqdm_v5.24.0.log", "hf_trainer_tqdm_v5.24.0@33 critical"),
        ("console/hf_trainer_tqdm_v4.46.3.log", "hf_trainer_tqdm_v4.46.3@33 critical"),
        ("console/verl_ray_color.log", "verl_ray_color@41 critical"),
        ("console/openrlhf_ray.log", "openrlhf_ray@17 critical"),
        ("trl/grpo/checkpoint-60/trainer_state.json", "grpo@33 critical"),  // named after the output folder
        ("tensorboard/single_run/events.out.tfevents.1700000000.fixturehost", "single_run@137 critical"),
    ])
    func everyFormatIsCheckedFromItsContent(_ file: String, _ alert: String) {
        let outcome = Self.check([Self.fixture(file)])
        #expect(outcome.alerts == [alert], "\(outcome.diagnostics)")
        #expect(outcome.status == .critical)
    }

    @Test func rlwatchsStoreIsEveryRunInItWithRlwatchsOwnAlertsBeside() throws {
        let path = try Fixtures.copy("formats/rlwatch/rlwatch_logs/metrics.db")
        let outcome = Self.check([path])
        #expect(outcome.alerts == ["ppo_kl_spike@70 critical"])
        #expect(outcome.status == .critical)
        let recorded = outcome.diagnostics.filter { $0.contains("rlwatch recorded") }
        #expect(recorded.count == 3)
        #expect(
            recorded.contains { $0.contains("grpo_calm: rlwatch recorded at step 50: critical loss_nan") })
    }

    @Test func stepsThatAreNoWholeNumberAreNotedOncePerRun() throws {
        let directory = try TemporaryDirectory.make("kltop-check-steps")
        let log = directory.appendingPathComponent("steps.jsonl")
        let lines =
            (0..<30).map { "{\"step\": \($0), \"kl\": 0.02}\n" } + [
                "{\"step\": 30.5, \"kl\": 0.02}\n", "{\"step\": \"x\", \"kl\": 0.02}\n",
            ]
        try lines.joined().write(to: log, atomically: true, encoding: .utf8)
        let outcome = Self.check([log.path])
        #expect(
            outcome.diagnostics.filter { $0.contains("whole number") } == [
                "kltop: steps: the step of 2 records is not a whole number (line 31: 30.5; …); their ordinals "
                    + "were used as the step"
            ])
    }

    /// The reviewer's cases, checked as `kltop check` checks them: one stray line near the top of a `.jsonl`
    /// log (binary garbage, a crash's NULs, a text line) neither hides the spike nor goes unreported.
    @Test func aStrayLineNearTheTopNeitherHidesTheSpikeNorGoesUnreported() throws {
        let directory = try TemporaryDirectory.make("kltop-check-stray")
        let records = (0..<60).map {
            "{\"step\": \($0), \"kl\": \($0 == 50 ? 5.0 : 0.02 + Double($0 % 3) / 1000)}"
        }
        let strays = [
            ("garbage", "\u{0}\u{FF}\u{80}\u{13}\u{0}{{"), ("nuls", String(repeating: "\u{0}", count: 300)),
            ("text", "Traceback (most recent call last):"),
        ]
        for (name, stray) in strays {
            let log = directory.appendingPathComponent("\(name).jsonl")
            try (Array(records[0..<2]) + [stray] + Array(records[2...])).joined(separator: "\n").appending(
                "\n"
            )
            .write(to: log, atomically: true, encoding: .utf8)
            let outcome = Self.check([log.path])
            #expect(outcome.alerts == ["\(name)@50 critical"], "\(outcome.diagnostics)")
            #expect(outcome.diagnostics.contains { $0.contains("\(name): skipped 1 bad line (line 3: ") })
        }
    }

    /// A log with no KL sample was not checked, whatever its format: exit 3, and the reason on stderr.
    @Test(arguments: [
        ("sb3/progress.csv", "keys seen: "),
        ("console/openrlhf_ray.log", "keys seen: "),
        ("trl/grpo/checkpoint-60/trainer_state.json", "not found"),
        ("tensorboard/single_run/events.out.tfevents.1700000000.fixturehost", "not found"),
        ("../conformance/spike_default.jsonl", "(keys seen: step, kl"),
    ])
    func aKeyThatIsNotInTheLogIsExitThreeInEveryFormat(_ file: String, _ detail: String) {
        let outcome = Self.check([Self.fixture(file)], metric: .key("kl_typo"))
        #expect(outcome.status == .unknown && outcome.alerts.isEmpty, "\(outcome.diagnostics)")
        let reason = outcome.diagnostics.first { $0.contains("no KL samples: key \"kl_typo\" not found in ") }
        #expect(reason?.contains(detail) == true, "\(outcome.diagnostics)")
    }

    @Test func rlwatchsStoreWithoutTheKeyIsExitThreeToo() throws {
        let path = try Fixtures.copy("formats/rlwatch/rlwatch_logs/metrics.db")
        let outcome = Self.check([path], metric: .key("kl_typo"))
        #expect(outcome.status == .unknown && outcome.alerts.isEmpty)
        #expect(
            outcome.diagnostics.filter { $0.contains("no KL samples") }.count == 2, "\(outcome.diagnostics)")
    }

    @Test func anAllNullSeriesIsExitThree() throws {
        let directory = try TemporaryDirectory.make("kltop-check-null")
        let log = directory.appendingPathComponent("nulls.jsonl")
        try (0..<30).map { "{\"step\": \($0), \"kl\": null}\n" }.joined().write(
            to: log, atomically: true, encoding: .utf8)
        let outcome = Self.check([log.path])
        #expect(outcome.status == .unknown)
        #expect(
            outcome.diagnostics.contains(
                "kltop: nulls: no KL samples: \"kl\" held no number in any of its 30 records (null, or something "
                    + "that is not a number)"))
    }

    /// Following, a run that has not logged KL yet is news, not a failure.
    @Test func followingARunWithoutSamplesYetIsNotAnError() throws {
        let directory = try TemporaryDirectory.make("kltop-check-follow-nokl")
        let log = directory.appendingPathComponent("early.jsonl")
        try (0..<5).map { "{\"step\": \($0), \"loss\": 0.5}\n" }.joined().write(
            to: log, atomically: true, encoding: .utf8)
        let request = CheckRequest(paths: [log.path], follow: true, pollInterval: 0.05, forcePolling: true)
        nonisolated(unsafe) var diagnostics: [String] = []
        nonisolated(unsafe) var rounds = 0
        let status = Checker.run(
            request, to: CheckOutput(output: { _ in }, diagnostics: { diagnostics.append($0) }),
            shouldStop: {
                rounds += 1
                return rounds > 5
            })
        #expect(status == .ok, "\(diagnostics)")
        #expect(diagnostics.contains { $0.hasPrefix("kltop: early: so far no KL key found in 5 records") })
    }

    @Test func inputFormatOverridesRecognition() {
        let forced = Self.check([Self.fixture("console/openrlhf_ray.log")], inputFormat: .csv)
        #expect(forced.alerts.isEmpty && forced.status == .unknown)
        let right = Self.check([Self.fixture("console/openrlhf_ray.log")], inputFormat: .console)
        #expect(right.alerts == ["openrlhf_ray@17 critical"])
        // A directory's run logs are all read as the named format: event files read as CSV hold no KL.
        let directory = Self.check([Self.fixture("tensorboard")], inputFormat: .csv)
        #expect(directory.status == .unknown && directory.alerts.isEmpty)
        #expect(directory.diagnostics.contains { $0.contains("no KL in its") && $0.hasSuffix("not a run") })
    }

    @Test func pathsThatAreNotRunLogsGetClearMessages() throws {
        let directory = try TemporaryDirectory.make("kltop-check-empty")
        let empty = Self.check([directory.path])
        #expect(empty.status == .unknown)
        #expect(empty.diagnostics.first?.contains("no run logs found") == true)
        let binary = directory.appendingPathComponent("blob.bin").path
        FileManager.default.createFile(atPath: binary, contents: Data([0, 1, 2, 3, 0, 9, 200, 0]))
        let unknown = Self.check([binary])
        #expect(unknown.status == .unknown && unknown.diagnostics.contains { $0.contains("--input-format") })
    }
}
