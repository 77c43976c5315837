import Foundation
import RunLogs
import TestSupport
import Testing

@Suite struct LogFileTests {
    @Test func missingUnreadableAndDirectoryPathsGetClearErrors() throws {
        let directory = try TemporaryDirectory.make()
        var reader = JSONLReader()
        #expect(throws: LogFileError.notFound(path: directory.path + "/nope.jsonl")) {
            try LogFile.read(path: directory.path + "/nope.jsonl", into: &reader) { _ in }
        }
        #expect(throws: LogFileError.isDirectory(path: directory.path)) {
            try LogFile.read(path: directory.path, into: &reader) { _ in }
        }
        let locked = directory.appendingPathComponent("locked.jsonl").path
        FileManager.default.createFile(atPath: locked, contents: Data("{\"kl\": 1}\n".utf8))
        chmod(locked, 0)
        if geteuid() != 0 {  // root reads anything
            #expect(throws: LogFileError.permissionDenied(path: locked)) {
                try LogFile.read(path: locked, into: &reader) { _ in }
            }
        }
        #expect(LogFileError.permissionDenied(path: "a").description.contains("permission denied"))
    }

    @Test func readsAFileLargerThanOneChunk() throws {
        let directory = try TemporaryDirectory.make()
        let path = directory.appendingPathComponent("big.jsonl").path
        let count = 40_000
        let text = (0..<count).map {
            "{\"step\": \($0), \"kl\": \(Double($0) / 7), \"pad\": \"\(String(repeating: "p", count: 20))\"}"
        }
        .joined(separator: "\n")  // no newline at the end: the last record still counts
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        var reader = JSONLReader()
        var steps: [Int64] = []
        try LogFile.read(path: path, into: &reader) { steps.append($0.step) }
        #expect(steps == (0..<count).map(Int64.init))
        #expect(reader.statistics.bytes == text.utf8.count)
    }
}

@Suite struct RunNamingTests {
    @Test func namesComeFromFilesOrTheirFolders() {
        #expect(RunNaming.name(forPath: "runs/grpo-7b.jsonl") == "grpo-7b")
        #expect(RunNaming.name(forPath: "/x/ppo_run3/progress.csv") == "ppo_run3")
        #expect(RunNaming.name(forPath: "exp1/metrics.jsonl") == "exp1")
        #expect(RunNaming.name(forPath: "tb/run_a/events.out.tfevents.1700000000.host.1.0") == "run_a")
        #expect(RunNaming.name(forPath: "metrics.jsonl") == "metrics")
        #expect(RunNaming.name(forPath: "-") == "stdin")
        #expect(RunNaming.name(forPath: ".hidden") == ".hidden")
    }

    /// transformers' checkpoint folders are named after the step, not the run: the run is the output folder.
    @Test func checkpointFoldersNameTheirOutputFolder() {
        #expect(RunNaming.name(forPath: "out/grpo-7b/checkpoint-60/trainer_state.json") == "grpo-7b")
        #expect(RunNaming.name(forPath: "/x/grpo-7b/tmp-checkpoint-5/trainer_state.json") == "grpo-7b")
        #expect(RunNaming.name(forPath: "out/grpo-7b/trainer_state.json") == "grpo-7b")
        #expect(RunNaming.name(forPath: "out/grpo-7b/checkpoint-60/notes.jsonl") == "notes")
        #expect(
            RunNaming.name(forPath: "out/grpo-7b/checkpoint-best/trainer_state.json") == "checkpoint-best")
        #expect(
            RunNaming.name(forPath: "checkpoint-60/trainer_state.json") == "checkpoint-60", "nothing above")
        #expect(RunNaming.disambiguatingFolder(forPath: "lr3/grpo/checkpoint-60/trainer_state.json") == "lr3")
        #expect(RunNaming.disambiguatingFolder(forPath: "a/exp1/metrics.jsonl") == "a")
        #expect(RunNaming.disambiguatingFolder(forPath: "a/grpo.jsonl") == "a")
        #expect(RunNaming.disambiguatingFolder(forPath: "grpo.jsonl") == nil)
        #expect(
            RunNaming.uniqueNames(forPaths: [
                "lr1/grpo/checkpoint-60/trainer_state.json", "lr3/grpo/checkpoint-40/trainer_state.json",
            ]) == ["lr1/grpo", "lr3/grpo"])
    }

    @Test func collisionsAreMadeUnique() {
        let names = RunNaming.uniqueNames(forPaths: [
            "a/grpo.jsonl", "b/grpo.jsonl", "c/x.jsonl", "c/x.csv", "solo.jsonl",
        ])
        #expect(names == ["a/grpo", "b/grpo", "c/x", "c/x~2", "solo"])
        #expect(Set(RunNaming.uniqueNames(forPaths: ["p/q/metrics.csv", "r/q/metrics.csv"])).count == 2)
    }
}
