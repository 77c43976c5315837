import CSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// A read-only connection to an SQLite database that another process may be writing.
///
/// Opened with the URI parameter `mode=ro` (and `SQLITE_OPEN_READONLY`): SQLite itself guarantees that the
/// database is never written through it. `immutable=1` would be wrong for a live database: it tells SQLite
/// that nothing else changes the file, so it takes no locks and ignores the WAL, and would read torn or stale
/// pages while rlwatch writes. In WAL mode (rlwatch's) readers take no lock that blocks the writer. The cost:
/// to read a WAL database SQLite needs its `-shm` index, and creates it (and an empty `-wal`) beside the
/// database if the writer is not running; it cannot in a read-only directory, and says so.
final class SQLiteConnection {
    private let handle: OpaquePointer
    let path: String

    init(readOnly path: String) throws(RlwatchStoreError) {
        self.path = path
        var db: OpaquePointer?
        let uri = "file:" + Self.uriEscaped(path) + "?mode=ro"
        let status = sqlite3_open_v2(
            uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let db else {
            let reason =
                db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
            if let db { sqlite3_close_v2(db) }
            // SQLite says only "unable to open database file": say why, where the reason is the file's mode.
            if access(path, R_OK) != 0 && errno == EACCES {
                throw .cannotOpen(path: path, reason: "permission denied")
            }
            throw .cannotOpen(path: path, reason: reason)
        }
        handle = db
        // A writer in the middle of a checkpoint or recovery holds the lock for a few milliseconds.
        sqlite3_busy_timeout(db, 2000)
        sqlite3_exec(db, "PRAGMA query_only = 1", nil, nil, nil)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs `sql` with `bindings` (integers or text), calling `row` for each result row.
    func query(_ sql: String, _ bindings: [Binding] = [], row: (Row) throws(RlwatchStoreError) -> Void)
        throws(RlwatchStoreError)
    {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure()
        }
        defer { sqlite3_finalize(statement) }
        for (index, binding) in bindings.enumerated() {
            switch binding {
            case .integer(let value): sqlite3_bind_int64(statement, Int32(index + 1), value)
            case .text(let value):
                sqlite3_bind_text(statement, Int32(index + 1), value, -1, csqlite_transient())
            }
        }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure() }
            try row(Row(statement: statement))
        }
    }

    private func failure() -> RlwatchStoreError {
        .queryFailed(path: path, reason: String(cString: sqlite3_errmsg(handle)))
    }

    enum Binding {
        case integer(Int64)
        case text(String)
    }

    /// The current row of a statement; valid only inside the `row` callback.
    struct Row {
        let statement: OpaquePointer

        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
        func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

        /// A REAL or INTEGER as a double; text holding a number is read as one; anything else is nil.
        func number(_ column: Int32) -> Double? {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_FLOAT, SQLITE_INTEGER:
                return sqlite3_column_double(statement, column)
            case SQLITE_TEXT:
                return withText(column) { bytes in
                    guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
                    return JSONLineScanner.parseDouble(base, 0..<bytes.count)
                }
            default:
                return nil
            }
        }

        func text(_ column: Int32) -> String {
            withText(column) { String(decoding: $0, as: UTF8.self) }
        }

        /// The column's UTF-8 bytes, without making a String.
        func withText<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
            guard let text = sqlite3_column_text(statement, column) else {
                return body(UnsafeBufferPointer(start: nil, count: 0))
            }
            return body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, column))))
        }
    }

    /// `%`, `?` and `#` would be read as URI syntax.
    static func uriEscaped(_ path: String) -> String {
        var escaped = ""
        for character in path {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3f"
            case "#": escaped += "%23"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
