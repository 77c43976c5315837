import CSQLite
import Foundation
import RunLogs
import TestSupport
import Testing

/// Reading an SQLite store writes nothing beside it: a WAL database whose writer is not running gets no
/// `-shm`/`-wal` from kltop, and a writer that starts later is still seen, row for row.
@Suite struct SQLiteCompanionFileTests {
    static func listing(of path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path
        )
        .sorted()
    }

    @Test(arguments: [StoreFixtures.trackioDatabase, "formats/rlwatch/rlwatch_logs/metrics.db"])
    func aWALDatabaseWithoutItsWriterIsReadWithoutFilesBesideIt(_ fixture: String) throws {
        let path = try Fixtures.copy(fixture)
        let before = try Self.listing(of: path)
        let reader = try StoreReaders.open(path: path)
        let first = try reader.poll()
        #expect(first.reduce(0) { $0 + $1.samples.count } > 0)
        for _ in 0..<3 { #expect(try reader.poll().allSatisfy { $0.samples.isEmpty }) }
        #expect(try Self.listing(of: path) == before)
    }

    @Test func aWriterThatStartsAfterTheReaderIsSeenAndNothingIsLost() throws {
        let path = try Fixtures.copy(StoreFixtures.trackioDatabase)
        let reader = try StoreReaders.open(path: path)
        let first = try reader.poll().reduce(0) { $0 + $1.rows }
        let writer = SQLiteWriter(path)
        writer.run("PRAGMA journal_mode = WAL")
        var written = 0
        for round in 0..<3 {
            for step in 0..<5 {
                #expect(
                    writer.run(
                        "INSERT INTO metrics(run_id, timestamp, run_name, step, metrics) VALUES "
                            + "('late', 't', 'late', \(round * 5 + step), '{\"train/kl\": 0.5}')")
                        == SQLITE_OK)
                written += 1
            }
            let rows = try reader.poll().reduce(0) { $0 + $1.rows }
            #expect(rows == 5, "round \(round): every new row once, while the writer is live")
        }
        // The writer stops (checkpointing into the file and deleting its -wal); its last rows are read.
        #expect(
            writer.run(
                "INSERT INTO metrics(run_id, timestamp, run_name, step, metrics) VALUES ('late', 't', 'late', 99, '{\"train/kl\": 0.5}')"
            ) == SQLITE_OK)
        sqlite3_close(writer.db)
        writer.db = nil
        let last = try reader.poll()
        #expect(last.reduce(0) { $0 + $1.rows } == 1)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(first > 0)
        let again = try StoreReaders.open(path: path).poll().reduce(0) { $0 + $1.rows }
        #expect(again == first + written + 1, "nothing lost")
    }
}
