import Foundation
import TestSupport
import Testing

@testable import LogFollowing

private func jsonl(_ steps: some Sequence<Int>, key: String = "kl") -> String {
    steps.map { "{\"step\": \($0), \"\(key)\": 0.0\($0 % 9 + 1)}\n" }.joined()
}

/// A TRL output folder as the trainer leaves it: a checkpoint's trainer_state.json, the TensorBoard
/// callback's `runs/<date>_<host>/` events, and a console log with no metrics in it.
private func trlOutputFolder(_ folder: URL) throws {
    try write(
        trainerState(steps: 1...30), to: folder.appendingPathComponent("checkpoint-30/trainer_state.json"))
    let events = try Data(
        contentsOf: URL(
            fileURLWithPath: Fixtures.path(
                "formats/tensorboard/single_run/events.out.tfevents.1700000000.fixturehost")))
    try write(
        Array(events),
        to: folder.appendingPathComponent("runs/Dec07_10-00-00_node1/events.out.tfevents.1700000000.node1"))
    try write("Downloading shards: 100%\n", to: folder.appendingPathComponent("stdout.log"))
}

@Suite struct RunFolderTests {
    @Test func containersAreNotRuns() {
        for name in [
            "runs", "logs", "tb", "tensorboard", "lightning_logs", "version_3", "checkpoint-40", "wandb",
            "Dec07_10-00-00_node1", "Nov25_12-52-06_vm", "PPO_1", "A2C_12",
        ] {
            #expect(RunFolder.isGeneric(name), "\(name)")
        }
        for name in ["grpo_seed0", "sb3_ppo_cartpole", "lr1e-2", "seed1", "PPO_cartpole", "Decoder_1a"] {
            #expect(!RunFolder.isGeneric(name), "\(name)")
        }
    }

    @Test func aLogBelongsToTheNearestFolderThatIsNotAContainer() {
        #expect(
            RunFolder.key(ofLog: "out/grpo/runs/Dec07_10-00-00_n/events.out.tfevents.1.n", root: "out")
                == "out/grpo")
        #expect(RunFolder.key(ofLog: "out/grpo/checkpoint-40/trainer_state.json", root: "out") == "out/grpo")
        #expect(RunFolder.key(ofLog: "out/pl/lightning_logs/version_0/metrics.csv", root: "out") == "out/pl")
        #expect(
            RunFolder.key(ofLog: "out/ppo_lr3e-4.jsonl", root: "out") == "out/ppo_lr3e-4.jsonl", "its own run"
        )
        #expect(
            RunFolder.key(ofLog: "out/progress.csv", root: "out") == "out", "a generic name: the folder's")
        #expect(RunFolder.key(ofLog: "runs/version_0/metrics.csv", root: "runs") == "runs", "all containers")
        // A name of its own makes a log its run, deeper down too (veRL's <project>/<experiment>.jsonl);
        // console output belongs to its folder's run, whatever its name.
        #expect(RunFolder.key(ofLog: "verl/proj/exp1.jsonl", root: "verl") == "verl/proj/exp1.jsonl")
        #expect(RunFolder.key(ofLog: "out/grpo/train_grpo.log", root: "out") == "out/grpo")
        #expect(RunFolder.key(ofLog: "out/slurm-42.out", root: "out") == "out/slurm-42.out")
    }
}

@Suite struct RunAssemblyTests {
    @Test func aTrainersOutputFolderIsOneRunReadFromItsFullPrecisionLog() throws {
        let root = try TemporaryDirectory.make("kltop-assembly")
        try trlOutputFolder(root.appendingPathComponent("outputs/grpo_seed0"))
        let following = Following([root.appendingPathComponent("outputs").path])
        following.poll()
        following.finish()
        #expect(following.runs == ["grpo_seed0"])
        // trainer_state.json's doubles, not the float32 TensorBoard scalars (which hold other steps).
        #expect(following.steps("grpo_seed0") == Array(1...30))
        let sources = try #require(following.sourcesOfRun["grpo_seed0"])
        #expect(
            sources.count == 2 && sources[0].hasSuffix("trainer_state.json")
                && sources[1].contains("tfevents"))
        #expect(following.logsWithoutKL.map { URL(fileURLWithPath: $0).lastPathComponent } == ["stdout.log"])
        #expect(!following.notices.contains { $0.kind == .waitingForFile })
    }

    @Test func runsSharingAFolderNameAreNamedByTheShortestPathEndThatTellsThemApart() throws {
        let root = try TemporaryDirectory.make("kltop-assembly")
        for path in ["lr1e-2/seed0", "lr1e-2/seed1", "lr1e-3/seed0", "ppo_solo"] {
            try write(jsonl(0..<5), to: root.appendingPathComponent("sweep/\(path)/metrics.jsonl"))
        }
        let following = Following([root.appendingPathComponent("sweep").path])
        following.poll()
        #expect(following.runs.sorted() == ["lr1e-2/seed0", "lr1e-3/seed0", "ppo_solo", "seed1"])
        #expect(!following.runs.contains { $0.contains("~") })
    }

    @Test func aLogWithoutKLIsNotARunUntilKLTurnsUpInIt() throws {
        let root = try TemporaryDirectory.make("kltop-assembly")
        let log = root.appendingPathComponent("runs/ppo/train.jsonl")
        try write(jsonl(0..<3, key: "loss"), to: log)
        let following = Following([root.appendingPathComponent("runs").path])
        following.poll()
        #expect(following.runs.isEmpty)
        #expect(following.logsWithoutKL == [log.path])
        try write(jsonl(0..<3, key: "loss") + jsonl(3..<6), to: log)
        #expect(following.poll() == [3, 4, 5])
        #expect(following.runs == ["ppo"])
    }

    @Test func aSourceThatJoinsARunLaterIsListedWithoutTakingOver() throws {
        let root = try TemporaryDirectory.make("kltop-assembly")
        let folder = root.appendingPathComponent("out/grpo")
        try write(jsonl(0..<10), to: folder.appendingPathComponent("metrics.jsonl"))
        let following = Following([root.appendingPathComponent("out").path])
        following.poll()
        #expect(following.runs == ["grpo"] && following.steps("grpo") == Array(0..<10))
        try write(
            trainerState(steps: 1...30), to: folder.appendingPathComponent("checkpoint-30/trainer_state.json")
        )
        following.poll()
        #expect(following.runs == ["grpo"], "still one run")
        #expect(following.sourcesOfRun["grpo"]?.count == 2)
        #expect(following.steps("grpo") == Array(0..<10), "the run's series is still the first log's")
    }

    /// Two logs of one run that hold other values or steps: noted once, the run's series left as it is.
    @Test func sourcesThatDisagreeAreNotedNotMerged() throws {
        let root = try TemporaryDirectory.make("kltop-assembly")
        let folder = root.appendingPathComponent("out/ppo")
        try write(jsonl(0..<10), to: folder.appendingPathComponent("metrics.jsonl"))
        // The same steps and values in CSV (as float32's shortest decimals would be, within 1e-7): agree.
        let csv =
            "step,kl\n" + (0..<10).map { "\($0),0.0\($0 % 9 + 1)00000001" }.joined(separator: "\n") + "\n"
        try write(csv, to: folder.appendingPathComponent("progress.csv"))
        let agreeing = Following([root.appendingPathComponent("out").path])
        agreeing.poll()
        agreeing.finish()
        #expect(agreeing.sourcesOfRun["ppo"]?.count == 2 && agreeing.disagreements.isEmpty)
        let other = "step,kl\n" + (5..<15).map { "\($0),0.5" }.joined(separator: "\n") + "\n"
        try write(other, to: folder.appendingPathComponent("progress.csv"))
        let disagreeing = Following([root.appendingPathComponent("out").path])
        disagreeing.poll()
        disagreeing.finish()
        #expect(disagreeing.steps("ppo").count == 10)
        let note = try #require(disagreeing.disagreements.first)
        // Equal counts at full precision: the newer log (the CSV, written last) is the series.
        #expect(disagreeing.disagreements.count == 1 && note.path.hasSuffix("metrics.jsonl"))
        #expect(
            note.note == "5 of 5 steps in common differ (step 5: 0.06 here, 0.5 in the run's series); "
                + "5 steps only here; 5 steps of the series not here", "\(note.note)")
    }

    @Test func aFileNamedOnTheCommandLineIsARunEvenWithoutKL() throws {
        let root = try TemporaryDirectory.make("kltop-assembly")
        let log = root.appendingPathComponent("grpo/train.jsonl")
        try write(jsonl(0..<3, key: "loss"), to: log)
        let following = Following([log.path])
        following.poll()
        #expect(following.runs == ["grpo"] && following.logsWithoutKL.isEmpty)
    }
}
