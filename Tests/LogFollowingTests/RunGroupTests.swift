import Foundation
import TestSupport
import Testing

@testable import LogFollowing

@Suite struct RunGroupTests {
    @Test func groupsAndRanksComeFromPaths() throws {
        let event = try #require(RunGroup.member(path: "logs/ppo/events.out.tfevents.1700000000.host.1.0"))
        #expect(event.group == RunGroup(kind: .tensorBoardRun, folder: "logs/ppo"))
        #expect(event.group.succession == .continues)
        let checkpoint = try #require(RunGroup.member(path: "out/grpo/checkpoint-100/trainer_state.json"))
        #expect(checkpoint.group == RunGroup(kind: .trainerCheckpoints, folder: "out/grpo"))
        #expect(checkpoint.group.succession == .supersedes)
        #expect(checkpoint.rank.number == 100)
        let staged = try #require(RunGroup.member(path: "out/grpo/tmp-checkpoint-7/trainer_state.json"))
        #expect(staged.group == checkpoint.group && staged.rank.number == 7)
        let final = try #require(RunGroup.member(path: "out/grpo/trainer_state.json"))
        #expect(final.group == checkpoint.group && final.rank > checkpoint.rank)
        let notACheckpoint = try #require(
            RunGroup.member(path: "out/grpo/checkpoint-best/trainer_state.json"))
        #expect(notACheckpoint.group.folder == "out/grpo/checkpoint-best")
        // Any other run log is the live log of its rotations, alone while it has none.
        let log = try #require(RunGroup.member(path: "out/grpo/progress.csv"))
        #expect(log.group == RunGroup(kind: .rotatedLog, folder: "out/grpo/progress.csv"))
        let rotation = try #require(RunGroup.member(path: "out/grpo/progress.csv.2.gz"))
        #expect(rotation.group == log.group && rotation.rank < log.rank)
        #expect(RunGroup.member(path: "out/grpo/model.pt.1") == nil, "a rotation of no run log")
    }

    @Test func checkpointsRankByStepNumberNotByName() throws {
        let ranks = try ["checkpoint-100", "checkpoint-20", "checkpoint-3"].map {
            try #require(RunGroup.member(path: "out/\($0)/trainer_state.json")).rank.number
        }
        #expect(ranks == [100, 20, 3])
        let found = [
            "o/a.jsonl", "o/run/checkpoint-100/trainer_state.json", "o/run/checkpoint-20/trainer_state.json",
            "o/run/checkpoint-3/notes.log", "o/run/trainer_state.json", "o/z.csv",
        ]
        #expect(
            RunGroup.inRankOrder(found) == [
                "o/a.jsonl", "o/run/checkpoint-20/trainer_state.json",
                "o/run/checkpoint-100/trainer_state.json",
                "o/run/trainer_state.json", "o/run/checkpoint-3/notes.log", "o/z.csv",
            ])
    }
}

/// Runs written to several files, followed through the library with a clock the test moves.
@Suite(.serialized) struct FollowingRunGroupsTests {
    /// Reading to the end (`check`, `export` without `--follow`) used to stop after a run's second event file.
    @Test func everyEventFileOfATensorBoardRunIsReadToTheEnd() throws {
        let logdir = try TemporaryDirectory.make("kltop-groups")
        for (index, steps) in [0..<30, 30..<60, 60..<90].enumerated() {
            try write(
                eventFile(steps: steps),
                to: logdir.appendingPathComponent("ppo/events.out.tfevents.170000000\(index).host"))
        }
        let following = Following([logdir.path])
        following.poll()
        following.finish()
        #expect(following.runs == ["ppo"])
        #expect(following.sources == [logdir.appendingPathComponent("ppo").path], "the run's folder")
        #expect(following.steps("ppo") == Array(0..<90))
    }

    /// An event file that ends inside a record: while it is the run's last file, read to the end, the
    /// record is still being written; once a later file of the run is read, it never will be, and it is
    /// a bad record (as it was before records held at the end were told apart).
    @Test func aCutEventFileFollowedByAnotherIsABadRecord() throws {
        let logdir = try TemporaryDirectory.make("kltop-groups")
        let cut = Array(eventFile(steps: 0..<30).dropLast(9))
        let first = logdir.appendingPathComponent("ppo/events.out.tfevents.1700000000.host")
        try write(cut, to: first)
        let alone = Following([logdir.path])
        alone.poll()
        alone.finish()
        #expect(alone.steps("ppo") == Array(0..<29))
        #expect(alone.statistics["ppo"]?.badLines == 0)
        #expect(alone.statistics["ppo"]?.heldAtEnd == cut.count - eventFile(steps: 0..<29).count)
        try write(
            eventFile(steps: 30..<60),
            to: logdir.appendingPathComponent("ppo/events.out.tfevents.1700000001.host"))
        let both = Following([logdir.path])
        both.poll()
        both.finish()
        #expect(both.steps("ppo") == Array(0..<29) + Array(30..<60))
        #expect(both.statistics["ppo"]?.badLines == 1)
        #expect(both.statistics["ppo"]?.heldAtEnd == 0)
        #expect(both.statistics["ppo"]?.firstBadLines.first?.reason.hasPrefix("truncated record") == true)
    }

    /// A trainer saving checkpoints: one run named after its output folder, read from the newest checkpoint
    /// by step number, each step once; an older checkpoint turning up later is ignored; the final
    /// trainer_state.json that `save_state()` writes continues the run.
    @Test func aTrainersCheckpointsAreOneRunReadFromTheNewest() throws {
        let root = try TemporaryDirectory.make("kltop-groups")
        let output = root.appendingPathComponent("grpo-run")
        func checkpoint(_ step: Int) -> URL {
            output.appendingPathComponent("checkpoint-\(step)/trainer_state.json")
        }
        try write(trainerState(steps: 1...5), to: checkpoint(5))
        try write(trainerState(steps: 1...10), to: checkpoint(10))
        let following = Following([root.path])
        #expect(
            following.poll() == Array(1...10),
            "read from checkpoint-10, not checkpoint-5 (its name sorts later)")
        try write(trainerState(steps: 1...20), to: checkpoint(20))
        try FileManager.default.removeItem(at: checkpoint(5).deletingLastPathComponent())  // save_total_limit
        #expect(following.poll() == Array(11...20))
        try write(trainerState(steps: 1...100), to: checkpoint(100))
        #expect(following.poll() == Array(21...100))
        try write(trainerState(steps: 1...30), to: checkpoint(30))
        #expect(following.poll().isEmpty, "a checkpoint older than the one read is not read")
        try write(
            trainerState(steps: 1...103, summary: true),
            to: output.appendingPathComponent("trainer_state.json"))
        #expect(following.poll() == Array(101...103))
        following.finish()
        #expect(following.runs == ["grpo-run"])
        #expect(following.sources == [output.path], "the output folder, not checkpoint-5 (deleted since)")
        #expect(following.steps("grpo-run") == Array(1...103))
        #expect(!following.notices.contains { $0.isProblem })
    }

    @Test func readToTheEndACheckpointFolderIsOneRunToo() throws {
        let root = try TemporaryDirectory.make("kltop-groups")
        for step in [5, 10, 15] {
            try write(
                trainerState(steps: 1...step),
                to: root.appendingPathComponent("grpo-run/checkpoint-\(step)/trainer_state.json"))
        }
        let following = Following([root.path])
        following.poll()
        following.finish()
        #expect(following.runs == ["grpo-run"])
        #expect(following.steps("grpo-run") == Array(1...15))
    }

    /// Both runs are named by the shortest end of their paths that tells them apart: not one of them by its
    /// folder alone and the other by a longer path.
    @Test func runsOfOneNameInTwoOutputFoldersAreToldApartByTheFolderAbove() throws {
        let root = try TemporaryDirectory.make("kltop-groups")
        for experiment in ["lr-1e-6", "lr-3e-6"] {
            try write(
                trainerState(steps: 1...3),
                to: root.appendingPathComponent("\(experiment)/grpo/checkpoint-3/trainer_state.json"))
        }
        let following = Following([root.path])
        following.poll()
        #expect(following.runs == ["lr-1e-6/grpo", "lr-3e-6/grpo"])
    }
}
