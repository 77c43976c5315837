/// Why a store (rlwatch's metrics.db, MLflow's mlflow.db or mlruns/, a Trackio project database) could not be
/// read, worded for the person who named it.
public typealias StoreError = RlwatchStoreError

/// Why rlwatch's metrics.db, or another store, could not be read, worded for the person who named it.
public enum RlwatchStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notAnRlwatchStore(path: String, reason: String)
    /// Not the store `kind` names (`MLflow tracking store`, `Trackio project database`), or not one kltop can
    /// read: `reason` says what is missing.
    case notAStore(path: String, kind: String, reason: String)
    /// An SQLite database without any table: one that its writer has only just created (SQLite makes the
    /// file when the writer connects, the tables a moment later).
    case noTablesYet(path: String)
    case queryFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, _), .notAnRlwatchStore(let path, _), .noTablesYet(let path),
            .queryFailed(let path, _), .notAStore(let path, _, _):
            "\(path): \(message)"
        }
    }

    /// What went wrong, without the path (for messages that name the path already).
    public var message: String {
        switch self {
        case .cannotOpen(_, "permission denied"): "permission denied (kltop only needs to read it)"
        case .cannotOpen(_, let reason):
            "cannot open the SQLite database read-only: \(reason) (in a folder kltop cannot write to, a WAL "
                + "database with a -wal file but no -shm beside it cannot be read)"
        case .notAnRlwatchStore(_, let reason): "not an rlwatch metrics store: \(reason)"
        case .notAStore(_, let kind, let reason): "not \(kind): \(reason)"
        case .noTablesYet: "an SQLite database with no tables yet (its writer creates them as it starts)"
        case .queryFailed(_, let reason) where reason.contains("readonly database"):
            "reading the database failed: \(reason) (in a folder kltop cannot write to, a WAL database with a "
                + "-wal file but no -shm beside it cannot be read)"
        case .queryFailed(_, let reason): "reading the database failed: \(reason)"
        }
    }
}
