import Foundation
import TestSupport
import Testing

/// `kltop check` as scripts see it: exit statuses, messages on stderr, stdout kept clean.
@Suite struct CheckCommandTests {
    static let conformance = Fixtures.root.appendingPathComponent("conformance")

    @Test func exitStatusesAreThoseOfMonitoringPlugins() throws {
        let calm = try Kltop.run([
            "check", "--window", "5", Self.conformance.appendingPathComponent("window5_never.jsonl").path,
        ])
        #expect(calm.status == 0, "\(calm.standardError)")
        let warnings = try Kltop.run([
            "check", Self.conformance.appendingPathComponent("drift_rolling.jsonl").path,
        ])
        #expect(warnings.status == 1)
        let critical = try Kltop.run([
            "check", Self.conformance.appendingPathComponent("spike_default.jsonl").path,
        ])
        #expect(critical.status == 2)
        let missing = try Kltop.run(["check", "/nonexistent/run.jsonl"])
        #expect(missing.status == 3 && missing.standardError.contains("/nonexistent/run.jsonl: no such file"))
        let both = try Kltop.run([
            "check", "/nonexistent/run.jsonl",
            Self.conformance.appendingPathComponent("spike_default.jsonl").path,
        ])
        #expect(both.status == 2, "a critical outranks a path that could not be checked")
        let device = try Kltop.run(["check", "/dev/null"])
        #expect(device.status == 3 && device.standardError.contains("is a device"))
        let usage = try Kltop.run(["check", "--sigma", "lots", "x.jsonl"])
        #expect(usage.status == 3)
        let noPaths = try Kltop.run(["check"])
        #expect(noPaths.status == 3)
    }

    /// A folder holds a run and a file that is no run log (a `download.log`): the run is checked and
    /// exported, the other file mentioned and left out. Named on its own, the same file could not be
    /// checked. Bad lines are said by `export` as by `check`.
    @Test func aStrayFileInAFolderIsLeftOutAndBadLinesAreSaidByEveryCommand() throws {
        let folder = try TemporaryDirectory.make("kltop-stray")
        let run = (0..<40).map { "{\"step\": \($0), \"kl\": 0.0\($0 % 7 + 1)}" }.joined(separator: "\n")
        try (run + "\nnot json at all\n").write(
            to: folder.appendingPathComponent("ppo.jsonl"), atomically: true, encoding: .utf8)
        let stray = folder.appendingPathComponent("download.log")
        try "Downloading model.safetensors: 100%|██████████| 1.2G/1.2G\n".write(
            to: stray, atomically: true, encoding: .utf8)
        for command in ["check", "export"] {
            let result = try Kltop.run([command, folder.path])
            #expect(result.status == 0, "\(command): \(result.standardError)")
            #expect(result.standardError.contains("download.log: not a run log"), "\(command)")
            #expect(result.standardError.contains("ppo: skipped 1 bad line (line 41: "), "\(command)")
            let named = try Kltop.run([command, stray.path])
            #expect(named.status == 3 && named.standardError.contains("no KL samples"), "\(command)")
        }
    }

    /// ArgumentParser takes `-1` after an option for another option unless told not to: `--sigma -1` must
    /// say what `--sigma=-1` says, not that the value is missing.
    @Test func aNegativeNumberGetsTheSameMessageWithOrWithoutEquals() throws {
        let cases = [
            ("--sigma", "-1", "--sigma: must be a finite number ≥ 0 (got -1.0)"),
            ("--window", "-5", "--window: must be at least 1 (got -5)"),
            ("--warmup", "-1", "--warmup: must be ≥ 0 (got -1)"),
            ("--cooldown", "-1", "--cooldown: must be ≥ 0 (got -1)"),
            ("--max-alerts", "-1", "--max-alerts: must be ≥ 0 (got -1)"),
            ("--poll", "-1", "--poll takes seconds between 0 and 3600"),
        ]
        for (flag, value, message) in cases {
            for arguments in [[flag, value], ["\(flag)=\(value)"]] {
                let result = try Kltop.run(["check"] + arguments + ["run.jsonl"])
                #expect(result.status == 3, "\(arguments)")
                #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
                #expect(!result.standardError.contains("Missing value"), "\(arguments)")
            }
        }
        let demo = try Kltop.run(["demo", "--speed", "-1"])
        #expect(demo.status == 3 && demo.standardError.contains("--speed takes steps per second"))
    }

    /// Every subcommand's help: no value listed without its description, every --input-format name said.
    @Test func everyCommandsHelpReadsWell() throws {
        for command in [[], ["watch"], ["demo"], ["check"], ["export"]] {
            let help = try Kltop.run(command + ["--help"])
            #expect(help.status == 0, "\(command)")
            let emptyDescriptions = help.standardOutput.split(separator: "\n").filter {
                $0.hasSuffix(" -") || $0.hasSuffix(" - ")
            }
            #expect(emptyDescriptions.isEmpty, "\(command): \(emptyDescriptions)")
        }
        let check = try Kltop.run(["check", "--help"]).standardOutput
        for name in ["jsonl", "csv", "tensorboard", "console", "trainer-state", "rlwatch"] {
            #expect(check.contains("        \(name) "), "--input-format lists \(name)")
        }
        #expect(check.contains("JSON Lines") && check.contains("trainer_state.json"))
        #expect(check.contains("--sigma <x>") && check.contains("--metric <key>"))
        #expect(try Kltop.run(["demo", "--help"]).standardOutput.contains("USAGE: kltop demo [<options>]"))
    }

    @Test func aBadConfigFileIsExitThreeWithFileAndLine() throws {
        let directory = try TemporaryDirectory.make("kltop-check-config")
        try "kl_explosion:\n  sigma_multiplier: lots\n".write(
            to: directory.appendingPathComponent("rlwatch.yaml"), atomically: true, encoding: .utf8)
        let log = Self.conformance.appendingPathComponent("spike_default.jsonl").path
        let result = try Kltop.run(["check", log], in: directory)
        #expect(result.status == 3)
        #expect(
            result.standardError.contains("rlwatch.yaml:2: kl_explosion.sigma_multiplier must be a number"))
        let overridden = try Kltop.run(["check", "--config", "/nonexistent.yaml", log], in: directory)
        #expect(
            overridden.status == 3 && overridden.standardError.contains("/nonexistent.yaml: no such file"))
    }

    @Test func theConfigFileInTheCurrentDirectoryIsUsedAndFlagsWin() throws {
        let directory = try TemporaryDirectory.make("kltop-check-config")
        try "kl_explosion:\n  sigma_multiplier: 50000\n".write(
            to: directory.appendingPathComponent("rlwatch.yaml"), atomically: true, encoding: .utf8)
        let log = Self.conformance.appendingPathComponent("spike_default.jsonl").path
        #expect(try Kltop.run(["check", log], in: directory).status == 0, "σ 50000 hides the spike")
        #expect(try Kltop.run(["check", "--sigma", "3", log], in: directory).status == 2)
    }

    @Test func jsonlOutputIsCleanAndTextEndsWithASummary() throws {
        let log = Self.conformance.appendingPathComponent("spike_default.jsonl").path
        let jsonl = try Kltop.run(["check", "--format", "jsonl", log])
        for line in jsonl.standardOutput.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)")
        }
        #expect(jsonl.standardError.contains("reading KL from \"kl\""))
        let text = try Kltop.run(["check", log])
        #expect(text.standardOutput.split(separator: "\n").last?.contains("200 KL samples") == true)
        #expect(text.standardOutput.contains("Immediately reduce learning rate or increase KL penalty"))
    }

    @Test func aLogWithoutAKLKeyCannotBeChecked() throws {
        let directory = try TemporaryDirectory.make("kltop-check-nokl")
        let log = directory.appendingPathComponent("loss.jsonl")
        try (0..<30).map { "{\"step\": \($0), \"loss\": 0.5}\n" }.joined().write(
            to: log, atomically: true, encoding: .utf8)
        let result = try Kltop.run(["check", log.path])
        #expect(
            result.status == 3 && result.standardError.contains("no KL key found")
                && result.standardError.contains("--metric"))
        #expect(try Kltop.run(["check", "--metric", "loss", log.path]).status == 0)
    }

    /// Zero KL samples means the log was not checked: exit 3 with the reason, in both output formats; only
    /// a log still being followed may simply not have logged KL yet.
    @Test func aLogWithNoKLSampleIsExitThreeWithTheReason() throws {
        let directory = try TemporaryDirectory.make("kltop-check-nosamples")
        let log = directory.appendingPathComponent("a.jsonl")
        try (0..<300).map { "{\"step\": \($0), \"kl\": 0.02, \"loss\": 0.4}\n" }.joined().write(
            to: log, atomically: true, encoding: .utf8)
        let reason =
            "kltop: a: no KL samples: key \"kl_typo\" not found in 300 records (keys seen: step, kl, loss)"
        let jsonl = try Kltop.run(["check", "--metric", "kl_typo", "--format", "jsonl", log.path])
        #expect(jsonl.status == 3 && jsonl.standardOutput.isEmpty)
        #expect(jsonl.standardError.contains(reason), "\(jsonl.standardError)")
        let text = try Kltop.run(["check", "--metric", "kl_typo", log.path])
        #expect(text.status == 3 && !text.standardOutput.contains("0 KL samples"))
        #expect(text.standardError.contains(reason))
        let piped = try Kltop.run(
            ["check", "--follow", "--metric", "kl_typo", "-"], input: try Data(contentsOf: log))
        #expect(piped.status == 3, "standard input closed: the log is complete, and was not checked")
        #expect(piped.standardError.contains("stdin: no KL samples: key \"kl_typo\""))
    }

    @Test func aFIFOIsReadAndStandardInputToo() throws {
        let directory = try TemporaryDirectory.make("kltop-fifo")
        let fifo = directory.appendingPathComponent("live.jsonl").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let follower = try LiveProcess(kltop: ["export", "--follow", fifo])
        let handle = try #require(FileHandle(forWritingAtPath: fifo))
        handle.write(Data((0..<5).map { "{\"step\": \($0), \"kl\": 0.02}\n" }.joined().utf8))
        #expect(follower.waitUntil(timeout: 10) { $0.count == 5 }, "\(follower.standardError)")
        try handle.close()
        follower.interrupt()
        let text = try String(
            contentsOf: Self.conformance.appendingPathComponent("spike_default.jsonl"), encoding: .utf8)
        let piped = try Kltop.run(["check", "-"], input: Data(text.utf8))
        #expect(piped.status == 2 && piped.standardOutput.contains("stdin: step 150 CRITICAL"))
    }
}
