import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An SQLite database that another process may be writing, read without ever writing beside it.
///
/// What SQLite does for a read-only connection (SQLite 3.40, found by experiment; kltop's flags):
/// - A WAL database (header bytes 18–19 = 2) with no `-wal` beside it, i.e. whose writer is not running:
///   `mode=ro` creates `-shm` (32 KiB) and an empty `-wal`, and a read-only connection can neither
///   checkpoint nor delete them, so they stay. Worse, they are made with kltop's owner and the database's
///   mode bits: in a shared folder (`/tmp`, sticky) a writer of another user then cannot open `-shm` for
///   writing and fails with "attempt to write a readonly database" until someone removes them. In a
///   read-only folder `mode=ro` cannot create them and fails (SQLITE_READONLY_DIRECTORY); `readonly_shm=1`
///   fails too (and still creates `-wal`). `immutable=1` creates nothing, reads the main file, and works
///   in a read-only folder.
/// - The writer running (its `-wal` and `-shm` exist): `mode=ro` creates nothing and sees every commit,
///   also in a read-only folder (it maps `-shm` read-only). `immutable=1` ignores the WAL (rows not yet
///   checkpointed are missing), and a connection kept open caches pages: after a checkpoint rewrote the
///   file it still answered from the old ones. So `immutable=1` is right only for one read, of a file
///   nothing writes during it.
/// - The writer closing while a reader's connection is open: the writer's last close checkpoints and
///   deletes `-wal` and `-shm` only if it gets the EXCLUSIVE lock on the database file, which every open
///   WAL connection's SHARED lock prevents; it then leaves both, with the WAL's frames in them, and the
///   reader cannot remove them. So a connection kept open between polls would leave the writer's files
///   behind whenever the writer stops.
/// - A rollback-journal database (MLflow's default): `mode=ro` creates nothing.
///
/// Hence ``read(_:)`` opens a connection per read and closes it after, and under an open-file-description
/// read lock on SQLite's SHARED lock bytes (`F_OFD_SETLK`, which conflicts with the writers' POSIX locks
/// but, unlike a POSIX lock, is not dropped when SQLite closes another descriptor of the file): while it is
/// held no writer can delete `-wal`, nor checkpoint into and then delete it, nor switch the journal mode.
/// Holding it costs a live WAL writer nothing (only a close during the read leaves its files, as any
/// reader's would); a rollback-mode writer would have to wait for it, so it is dropped for those at once.
/// Under the lock: a WAL database without `-wal` is read through `immutable=1`, and the read is kept only
/// if afterwards there is still no `-wal` and the file is the same (inode, size, modification and change
/// times to the nanosecond). A writer that started meanwhile has made a `-wal`, which stays until the lock
/// is dropped, and the read is done again through `mode=ro`, which then creates nothing, as for a
/// database with a `-wal` from the start. `body` must therefore be able to run twice. Without the lock
/// (another kernel than Linux, a file system without OFD locks, a writer holding EXCLUSIVE, as one in
/// `locking_mode=EXCLUSIVE` does) every read goes through `mode=ro`, as before: correct, and the files may
/// be left. Deleting `-shm`/`-wal` afterwards is never done: kltop cannot tell its own from a live
/// writer's, and deleting a live writer's `-wal` loses its commits.
final class SQLiteDatabase {
    let path: String

    init(path: String) {
        self.path = path
    }

    /// Runs `body` on a connection that sees the database's last commit, and closes it; `body` may run a
    /// second time (its first result discarded), so it must leave nothing changed that a second run would
    /// see.
    func read<T>(_ body: (SQLiteConnection) throws(StoreError) -> T) throws(StoreError) -> T {
        var lock = SharedLock(path: path)
        defer { lock.release() }
        if lock.isHeld, let before = lock.quietState {
            if let connection = try? SQLiteConnection(path: path, immutable: true),
                let value = try? body(connection), SharedLock.state(of: path) == before
            {
                return value
            }
        } else if lock.isHeld && !lock.isWAL {
            lock.release()
        }
        return try body(SQLiteConnection(path: path, immutable: false))
    }
}

/// A read lock on the bytes SQLite's SHARED lock uses (unix VFS: 510 bytes from 2^30 + 2), taken on a
/// descriptor of kltop's own, and what was beside the database when it was taken.
private struct SharedLock {
    private var descriptor: Int32 = -1
    private(set) var isHeld = false
    /// Whether the header says WAL (bytes 18 and 19 are 2).
    private(set) var isWAL = false
    /// For a WAL database without `-wal`: the file's identity and times, to compare after the read.
    private(set) var quietState: [Int]?

    init(path: String) {
        #if os(Linux)
            descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
            guard descriptor >= 0 else { return }
            var region = flock()
            region.l_type = Int16(F_RDLCK)
            region.l_whence = Int16(SEEK_SET)
            region.l_start = 0x4000_0002
            region.l_len = 510
            // A writer holding EXCLUSIVE (deleting its -wal as it closes) holds it for milliseconds.
            for _ in 0..<50 {
                isHeld = fcntl(descriptor, Self.ofdSetLock, &region) == 0
                guard !isHeld && (errno == EAGAIN || errno == EACCES) else { break }
                usleep(2000)
            }
            guard isHeld else { return }
            var header = [UInt8](repeating: 0, count: 20)
            let count = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 20, 0) }
            isWAL = count == 20 && header[18] == 2 && header[19] == 2
            if isWAL { quietState = Self.state(of: path) }
        #endif
    }

    #if os(Linux)
        /// `F_OFD_SETLK` (Linux 3.15), which Glibc's module does not export.
        private static let ofdSetLock: Int32 = 37
    #endif

    mutating func release() {
        if descriptor >= 0 { close(descriptor) }  // closing the descriptor drops its OFD lock
        descriptor = -1
        isHeld = false
    }

    /// Inode, device, size, modification and change times of the database, or nil when it has a `-wal`
    /// (or is gone).
    static func state(of path: String) -> [Int]? {
        var info = stat()
        var wal = stat()
        guard stat(path, &info) == 0, stat(path + "-wal", &wal) != 0, errno == ENOENT else { return nil }
        return [
            Int(info.st_ino), Int(info.st_dev), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec,
            info.st_ctim.tv_sec, info.st_ctim.tv_nsec,
        ]
    }
}

/// One connection to the database, read-only: `mode=ro` (SQLite guarantees nothing is written through
/// it; in WAL mode its reads take no lock that blocks the writer), or `immutable=1` for a file nothing
/// writes (``SQLiteDatabase``).
final class SQLiteConnection {
    private let handle: OpaquePointer
    let path: String

    init(path: String, immutable: Bool) throws(RlwatchStoreError) {
        self.path = path
        var db: OpaquePointer?
        let uri = "file:" + Self.uriEscaped(path) + (immutable ? "?mode=ro&immutable=1" : "?mode=ro")
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
