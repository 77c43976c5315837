import CSQLite
import Foundation
import RunLogs
import TestSupport
import Testing

@Suite struct RlwatchStoreReaderTests {
    /// A copy of the fixture store in a fresh folder: opening a WAL database creates -wal/-shm beside it.
    static func copyOfFixture() throws -> String {
        try Fixtures.copy("formats/rlwatch/rlwatch_logs/metrics.db")
    }

    /// Whoever opened the fixture store in place (a test, or someone trying kltop on it) left SQLite's
    /// companions in the repository; every test must work on a copy (``Fixtures/copy(_:)``).
    @Test func theFixtureFoldersHoldNoDatabaseCompanions() {
        #expect(
            Fixtures.strayDatabaseCompanions().isEmpty,
            "delete these from Tests/Fixtures, and open the store through Fixtures.copy in tests")
    }

    /// A writing connection, as rlwatch's own.
    final class Writer {
        var db: OpaquePointer?
        init(_ path: String) {
            sqlite3_open(path, &db)
        }
        deinit { sqlite3_close(db) }
        @discardableResult func run(_ sql: String) -> Int32 { sqlite3_exec(db, sql, nil, nil, nil) }
    }

    @Test func theFixtureStoreReadsAsExpected() throws {
        let path = try Self.copyOfFixture()
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try RlwatchStoreReader(path: path)
        #expect(reader.metricKey == "kl_divergence")
        let updates = try reader.poll()
        let expected =
            FormatExpectations.entry("rlwatch/rlwatch_logs/metrics.db")["runs"] as? [String: [String: Any]]
            ?? [:]
        #expect(Set(updates.map(\.run)) == Set(expected.keys))
        for update in updates {
            let entry = try #require(expected[update.run])
            let steps = try #require(FormatExpectations.steps(entry))
            #expect(update.samples.map(\.step) == steps.map(Int64.init), "\(update.run)")
            let spike = entry["spike_step"] as? Int
            #expect(update.samples.allSatisfy { abs($0.value - klAt(Int($0.step), spike: spike)) < 1e-12 })
            #expect(update.samples.contains { $0.value == 5.0 } == (spike != nil))
            let alerts = try #require(entry["alerts"] as? [[Any]])
            #expect(
                update.alerts.map { "\($0.step) \($0.detector) \($0.severity)" }
                    == alerts.map { $0.map { "\($0)" }.joined(separator: " ") })
            #expect(update.rows == update.samples.count && update.missingValues == 0)
        }
        let spikeAlert = updates.flatMap(\.alerts).first { $0.detector == "kl_explosion" }
        #expect(spikeAlert?.message.contains("1561.8σ") == true)
        #expect(try reader.poll().isEmpty, "nothing new")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original, "the database is never written")
    }

    @Test func newRowsAndAlertsArriveIncrementallyWhileTheWriterWrites() throws {
        let path = try Self.copyOfFixture()
        let reader = try RlwatchStoreReader(path: path)
        reader.batchSize = 7  // several batches per poll
        let first = try reader.poll()
        #expect(first.reduce(0) { $0 + $1.samples.count } == 200)
        let writer = Writer(path)
        sqlite3_busy_timeout(writer.db, 0)  // any lock held by the reader would fail the writer at once
        #expect(writer.run("BEGIN IMMEDIATE") == SQLITE_OK)
        #expect(writer.run("INSERT INTO runs VALUES ('fresh', 'trl', 1700000999.0, '{}')") == SQLITE_OK)
        for step in 0..<5 {
            writer.run(
                "INSERT INTO metrics (run_id, step, timestamp, kl_divergence) VALUES ('fresh', \(step), 1.0, \(Double(step) / 10))"
            )
        }
        writer.run(
            "INSERT INTO metrics (run_id, step, timestamp, kl_divergence) VALUES ('grpo_calm', 80, 1.0, NULL)"
        )
        #expect(
            try reader.poll().isEmpty, "an uncommitted transaction is not seen, and does not block the reader"
        )
        #expect(writer.run("COMMIT") == SQLITE_OK, "the reader never blocks the writer")
        writer.run(
            "INSERT INTO alerts (run_id, step, timestamp, detector, severity, message) VALUES ('fresh', 4, 1.0, 'kl_explosion', 'warning', 'x')"
        )
        let second = try reader.poll()
        let fresh = try #require(second.first { $0.run == "fresh" })
        #expect(fresh.samples.map(\.step) == [0, 1, 2, 3, 4])
        #expect(fresh.alerts.map(\.detector) == ["kl_explosion"])
        let calm = try #require(second.first { $0.run == "grpo_calm" })
        #expect(calm.samples.isEmpty && calm.rows == 1 && calm.missingValues == 1)
        #expect(second.count == 2)
    }

    @Test func otherColumnsAndExtraJSONKeys() throws {
        let path = try Self.copyOfFixture()
        let loss = try RlwatchStoreReader(path: path, metric: .key("loss")).poll()
        let calm = try #require(loss.first { $0.run == "grpo_calm" })
        #expect(calm.missingValues == 1, "rlwatch stores the NaN loss at step 50 as NULL")
        #expect(!calm.samples.contains { $0.step == 50 })
        let coefficient = try RlwatchStoreReader(path: path, metric: .key("kl_coef")).poll()
        #expect(
            coefficient.first { $0.run == "ppo_kl_spike" }?.samples.allSatisfy { $0.value == 0.001 } == true)
        #expect(coefficient.first { $0.run == "grpo_calm" }?.samples.isEmpty == true)
        #expect(throws: RlwatchStoreError.self) {
            try RlwatchStoreReader(path: path, metric: .key("x\"; DROP TABLE metrics"))
        }
    }

    /// The store cut short at every page and within pages, and with bytes flipped anywhere: reading it gives
    /// samples or a clear error, never a crash (SQLite checks its own pages).
    @Test func aCorruptOrTruncatedStoreIsAnErrorNotACrash() throws {
        let original = try Data(
            contentsOf: URL(fileURLWithPath: Fixtures.path("formats/rlwatch/rlwatch_logs/metrics.db")))
        let directory = try TemporaryDirectory.make("kltop-rlwatch-corrupt")
        var random = SeededGenerator(seed: 11)
        var copies: [Data] = stride(from: 0, to: original.count, by: 1024).map { original.prefix($0) }
        copies += (0..<3).map { _ in original.prefix(Int(random.next() % UInt64(original.count))) }
        for _ in 0..<60 {
            var copy = original
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let index = Int(random.next() % UInt64(copy.count))
                copy[index] ^= UInt8(truncatingIfNeeded: 1 + random.next() % 255)
            }
            copies.append(copy)
        }
        var failures = 0
        for (number, bytes) in copies.enumerated() {
            let path = directory.appendingPathComponent("metrics-\(number).db").path
            try bytes.write(to: URL(fileURLWithPath: path))
            do {
                let reader = try RlwatchStoreReader(path: path)
                for update in try reader.poll() { #expect(update.samples.count <= 200) }
            } catch {
                failures += 1
                #expect(!error.description.isEmpty)
            }
        }
        #expect(failures > 0, "a store cut to a few bytes cannot be read")
    }

    @Test func whatIsNotAStoreGetsAClearError() throws {
        let directory = try TemporaryDirectory.make("kltop-rlwatch")
        let text = directory.appendingPathComponent("notes.db").path
        FileManager.default.createFile(atPath: text, contents: Data(repeating: 7, count: 5000))
        #expect(throws: RlwatchStoreError.self) { try RlwatchStoreReader(path: text) }
        let other = directory.appendingPathComponent("other.db").path
        Writer(other).run("CREATE TABLE t (x)")
        do {
            _ = try RlwatchStoreReader(path: other)
            Issue.record("an SQLite database without rlwatch's tables was accepted")
        } catch {
            #expect(error.description.contains("not an rlwatch metrics store"))
        }
        #expect(throws: RlwatchStoreError.self) {
            try RlwatchStoreReader(path: directory.appendingPathComponent("none.db").path)
        }
    }
}
