/// Why rlwatch's metrics.db could not be read, worded for the person who named it.
public enum RlwatchStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notAnRlwatchStore(path: String, reason: String)
    case queryFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "\(path): cannot open the SQLite database read-only: \(reason) (SQLite needs to create its -shm "
                + "file beside a WAL database when the writer is not running, which fails in a read-only folder)"
        case .notAnRlwatchStore(let path, let reason): "\(path): not an rlwatch metrics store: \(reason)"
        case .queryFailed(let path, let reason): "\(path): reading the database failed: \(reason)"
        }
    }
}
