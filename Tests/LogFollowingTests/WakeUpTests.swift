import CSQLite
import Foundation
import LogFollowing
import TestSupport
import Testing

/// What inotify must bring the follower back for, between full checks: the poll interval here is 1000 s,
/// so after the first round only what inotify reported is looked at.
@Suite(.serialized) struct WakeUpTests {
    static let never = 1000.0

    /// The writer closed a run's event file and opened a new one: a change to the new file is news for the
    /// run, though the file being read is the old one.
    @Test func aRunsNewEventFileIsReadWithoutWaitingForAFullCheck() throws {
        let logdir = try TemporaryDirectory.make("kltop-wakeup")
        try write(
            eventFile(steps: 0..<10),
            to: logdir.appendingPathComponent("ppo/events.out.tfevents.1700000000.h"))
        let following = Following([logdir.path], pollInterval: Self.never)
        guard following.follower.usesInotify else { return }
        #expect(following.poll() == Array(0..<10))
        try write(
            eventFile(steps: 10..<20),
            to: logdir.appendingPathComponent("ppo/events.out.tfevents.1700000600.h"))
        #expect(following.poll(after: 0.01) == Array(10..<20))
    }

    /// A folder named with a trailing slash (`runs/`, as shell completion writes it): inotify's reports for
    /// the files in it are spelled as the files being followed, so a write wakes the follower at once.
    @Test func aFolderNamedWithATrailingSlashIsWokenByInotify() throws {
        let root = try TemporaryDirectory.make("kltop-wakeup")
        let log = root.appendingPathComponent("a.jsonl")
        try write("{\"step\": 0, \"kl\": 0.1}\n", to: log)
        let following = Following([root.path + "/"], pollInterval: Self.never)
        guard following.follower.usesInotify else { return }
        #expect(following.poll() == [0])
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"step\": 1, \"kl\": 0.1}\n".utf8))
        try handle.close()
        #expect(following.poll(after: 0.01) == [1])
    }

    /// A folder deleted and made again at the same path (a run started again in the same output folder) is
    /// watched again, though kltop still holds the deleted log in it open (which keeps the old folder's
    /// inode, and the old watch on it, alive).
    @Test func aFolderDeletedAndMadeAgainIsWatchedAgain() throws {
        let root = try TemporaryDirectory.make("kltop-wakeup")
        let folder = root.appendingPathComponent("a")
        try write("{\"step\": 0, \"kl\": 0.1}\n", to: folder.appendingPathComponent("log.jsonl"))
        let following = Following([root.path], pollInterval: Self.never)
        guard following.follower.usesInotify else { return }
        #expect(following.poll() == [0])
        try FileManager.default.removeItem(at: folder)
        following.poll(after: 0.01)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        following.poll(after: 0.01)
        try write("{\"step\": 1, \"kl\": 0.1}\n", to: folder.appendingPathComponent("log.jsonl"))
        #expect(following.poll(after: 0.01) == [1])
    }

    /// SQLite creates the database file empty when rlwatch connects; found in that moment, it is still
    /// rlwatch's store (it used to be taken for a byte stream and never read).
    @Test func aStoreFoundEmptyIsReadOnceRlwatchHasWrittenIt() throws {
        let root = try TemporaryDirectory.make("kltop-wakeup")
        let path = root.appendingPathComponent("metrics.db").path
        var db: OpaquePointer?
        #expect(sqlite3_open(path, &db) == SQLITE_OK)
        defer { sqlite3_close(db) }
        let following = Following([root.path])
        following.poll()
        let notice = try #require(following.notices.first)
        #expect(
            notice.description
                == "\(path): an SQLite database with no tables yet (its writer creates them as it starts)")
        for sql in [
            "PRAGMA journal_mode=WAL",
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, framework TEXT, started_at REAL, config_json TEXT)",
            "CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, step INTEGER NOT NULL, timestamp REAL NOT NULL, kl_divergence REAL)",
            "CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, step INTEGER NOT NULL, timestamp REAL NOT NULL, detector TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL)",
            "INSERT INTO runs VALUES ('ppo', 'manual', 1.0, '{}')",
            "INSERT INTO metrics (run_id, step, timestamp, kl_divergence) VALUES ('ppo', 0, 1.0, 0.02), ('ppo', 1, 1.0, 0.03)",
        ] {
            #expect(sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK, "\(sql)")
        }
        #expect(following.poll() == [0, 1])
        #expect(following.runs == ["ppo"])
    }
}

/// The idle dashboard woke 4 times a second and then spun: a deadline 0.9 ms away was a poll of 0 ms.
@Suite struct PollTimeoutTests {
    @Test func waitsAreRoundedUpToWholeMilliseconds() {
        #expect(LogFollower.pollMilliseconds(0.0001) == 1)
        #expect(LogFollower.pollMilliseconds(0.2491) == 250)
        #expect(LogFollower.pollMilliseconds(0.25) == 250)
        #expect(LogFollower.pollMilliseconds(0) == 0)
        #expect(LogFollower.pollMilliseconds(-1) == 0)
        #expect(LogFollower.pollMilliseconds(1e9) == 3_600_000)
    }
}
