import Foundation
import TestSupport
import Testing

/// kltop never writes to the logs it reads: every format, checked, exported and followed, is byte for byte
/// and timestamp for timestamp what it was.
@Suite struct ReadOnlyTests {
    @Test func logsAreUntouchedByCheckExportAndFollow() throws {
        let directory = try TemporaryDirectory.make("kltop-readonly")
        let formats = Fixtures.root.appendingPathComponent("formats")
        for relative in [
            "sb3/progress.csv", "tensorboard/single_run", "trl/grpo/checkpoint-60/trainer_state.json",
            "console/verl_ray_color.log", "rlwatch/rlwatch_logs/metrics.db",
        ] {
            let target = directory.appendingPathComponent(relative.replacingOccurrences(of: "/", with: "_"))
            try FileManager.default.copyItem(at: formats.appendingPathComponent(relative), to: target)
        }
        try FileManager.default.copyItem(
            at: Fixtures.root.appendingPathComponent("conformance/spike_default.jsonl"),
            to: directory.appendingPathComponent("spike.jsonl"))
        let before = try Self.fingerprints(of: directory)
        _ = try Kltop.run(["check", directory.path])
        _ = try Kltop.run(["export", "--format", "csv", directory.path])
        let follower = try LiveProcess(kltop: ["export", "--follow", directory.path])
        _ = follower.waitUntil(timeout: 10) { $0.count >= 200 }
        Thread.sleep(forTimeInterval: 1.5)
        follower.interrupt()
        let after = try Self.fingerprints(of: directory)
        // Not even SQLite's -shm/-wal companions of the WAL database (rlwatch is not running).
        #expect(after.keys.sorted() == before.keys.sorted(), "no file appeared")
        for (path, fingerprint) in before {
            #expect(after[path] == fingerprint, "\(path) changed")
        }
        #expect(before.count == 6, "one file of each format")
    }

    struct Fingerprint: Equatable {
        var contents: Data
        var modified: String
    }

    /// Contents and modification time of every regular file under `directory`.
    static func fingerprints(of directory: URL) throws -> [String: Fingerprint] {
        var result: [String: Fingerprint] = [:]
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            var info = stat()
            guard stat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let data = try Data(contentsOf: url)
            result[url.path] = Fingerprint(
                contents: data, modified: "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
        }
        return result
    }
}
