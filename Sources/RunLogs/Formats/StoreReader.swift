import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A store of runs that its writer keeps adding to, read while it writes: rlwatch's `metrics.db`, MLflow's
/// `mlflow.db` or `mlruns/`, a Trackio project database.
///
/// Not a byte stream, so not a ``SampleReader``: each ``poll()`` returns, per run, what was added since the
/// last poll, found incrementally (by row id, or by offset in a metric file), so that a poll costs what is
/// new, not what is there.
public protocol StoreReader: AnyObject {
    /// The database file, or the store's folder.
    var path: String { get }
    /// Files whose size or modification time changing is the only way the store can have news: a poll when
    /// none changed can be skipped. Empty when the reader finds out itself, cheaply (a folder of files).
    var watchedPaths: [String] { get }
    /// Folders to watch with inotify for news (a file store's experiment, run and metric folders).
    var watchedDirectories: [String] { get }
    /// The samples added since the last poll, one update per run that has any, plus an empty update for a
    /// run seen for the first time (so that a run that has just started shows).
    func poll() throws(StoreError) -> [RunUpdate]
}

extension StoreReader {
    public var watchedDirectories: [String] { [] }
}

/// Opening a store as what it is.
public enum StoreReaders {
    /// A reader for the store at `path`: `format` when given (`--input-format`), otherwise what the store
    /// is — a folder laid out as MLflow's file store, or an SQLite database told apart by its tables
    /// (``LogFormat/storeFormat(tables:metricsColumns:)``).
    public static func open(path: String, format: LogFormat? = nil, metric: MetricSelection = .automatic)
        throws(StoreError) -> any StoreReader
    {
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            guard format == nil || format == .mlflowStore else {
                throw .notAStore(path: path, kind: "a database", reason: "it is a folder")
            }
            return try MLflowFileStoreReader(path: path, metric: metric)
        }
        let kind: LogFormat
        if let format, format.isStore {
            kind = format
        } else {
            let (tables, columns) = try SQLiteDatabase(path: path).read { (connection) throws(StoreError) in
                let tables = try connection.tables()
                return (tables, tables.contains("metrics") ? try connection.columns(of: "metrics") : [])
            }
            if tables.isEmpty { throw .noTablesYet(path: path) }
            if let found = LogFormat.storeFormat(tables: tables, metricsColumns: columns) {
                kind = found
            } else if path.hasSuffix("metrics.db") {
                kind = .rlwatchStore  // its reader says what of rlwatch's schema is missing
            } else {
                throw .notAStore(
                    path: path, kind: "a store kltop reads (rlwatch's, MLflow's or Trackio's)",
                    reason: "none of their tables")
            }
        }
        switch kind {
        case .mlflowStore: return try MLflowStoreReader(path: path, metric: metric)
        case .trackioStore: return try TrackioStoreReader(path: path, metric: metric)
        default: return try RlwatchStoreReader(path: path, metric: metric)
        }
    }
}

/// Names for the runs of one store: the writer's own run names, made unique within the store.
///
/// A name already given goes to the first run that had it (runs are met in the order they were made, so
/// the choice is the same whether the store is read at once or followed); a later run of the same name is
/// named after its group (MLflow's experiment: `grpo/baseline`), or else counted (`baseline~2`).
public struct StoreRunNames: Sendable {
    private var taken: Set<String> = []

    public init() {}

    public mutating func name(for proposed: String, group: String? = nil) -> String {
        var name = proposed.isEmpty ? "run" : proposed
        if taken.contains(name), let group, !group.isEmpty, !taken.contains(group + "/" + name) {
            name = group + "/" + name
        }
        let base = name
        var counter = 2
        while taken.contains(name) {
            name = "\(base)~\(counter)"
            counter += 1
        }
        taken.insert(name)
        return name
    }
}

/// Per-run choice of the KL key among the keys a run has logged, for stores whose rows are one key each
/// (MLflow): the best of ``MetricKeys/klAliases`` present, fixed once chosen, or the `--metric` key.
struct StoreKeyChoice {
    private(set) var chosenKey: String?
    private(set) var chosenBytes: [UInt8] = []
    private let selection: MetricSelection

    init(selection: MetricSelection) {
        self.selection = selection
        if case .key(let key) = selection { choose(key) }
    }

    var isChoosing: Bool { chosenKey == nil }

    /// Chooses among `keys` (every key the run has so far). Returns whether a key is chosen.
    @discardableResult
    mutating func choose(among keys: [String]) -> Bool {
        guard isChoosing else { return true }
        let matcher = MetricKeyMatcher(selection: selection)
        let best = keys.compactMap { key in matcher.rank(key).map { (rank: $0, key: key) } }.min {
            $0.rank < $1.rank
        }
        guard let best else { return false }
        choose(best.key)
        return true
    }

    private mutating func choose(_ key: String) {
        chosenKey = key
        chosenBytes = Array(key.utf8)
    }

    /// Whether `key` is the chosen key.
    @inline(__always)
    func matches(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard chosenKey != nil, key.count == chosenBytes.count else { return false }
        return chosenBytes.withUnsafeBufferPointer { wanted in
            key.count == 0 || memcmp(wanted.baseAddress!, key.baseAddress!, key.count) == 0
        }
    }
}

extension SQLiteConnection {
    /// The names of the database's tables.
    func tables() throws(StoreError) -> Set<String> {
        var names: Set<String> = []
        try query("SELECT name FROM sqlite_master WHERE type = 'table'") { row in names.insert(row.text(0)) }
        return names
    }

    /// The columns of `table` (a name kltop chose, not one read from a file).
    func columns(of table: String) throws(StoreError) -> Set<String> {
        var names: Set<String> = []
        try query("SELECT name FROM pragma_table_info(?1)", [.text(table)]) { row in names.insert(row.text(0))
        }
        return names
    }
}

extension SQLiteConnection.Row {
    /// The column's bytes, whether it holds TEXT or a BLOB (Trackio stores orjson's bytes). A BLOB is read
    /// as it is: asked for as text, SQLite would copy it to add a terminating NUL.
    func withBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        guard sqlite3_column_type(statement, column) == SQLITE_BLOB else { return withText(column, body) }
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let blob = sqlite3_column_blob(statement, column) else {
            return body(UnsafeBufferPointer(start: nil, count: 0))
        }
        return body(UnsafeBufferPointer(start: blob.assumingMemoryBound(to: UInt8.self), count: count))
    }
}
