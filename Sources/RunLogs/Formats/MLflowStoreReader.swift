/// Follows MLflow's SQLite tracking store (`mlflow.db`, tracking URI `sqlite:///mlflow.db`), read-only,
/// while MLflow writes it.
///
/// MLflow's tables (`mlflow/store/tracking/dbmodels/models.py`): `experiments(experiment_id, name, …)`,
/// `runs(run_uuid, name, experiment_id, lifecycle_stage, …)` and `metrics(key, value, timestamp, step,
/// run_uuid, is_nan)`, one row per key and step. Every run becomes a kltop run named by its MLflow run name
/// (``StoreRunNames``: a second run of the same name is named after its experiment, `grpo/baseline`).
/// Deleted runs (`lifecycle_stage = 'deleted'`) are left out, as MLflow's UI leaves them out.
///
/// `metrics` has no id column, but it is an ordinary rowid table, and SQLite gives each new row a rowid
/// above every other: new rows are found by rowid, in batches (as ``RlwatchStoreReader`` reads, each batch
/// its own short read, so that MLflow — in rollback-journal mode by default, where a reader holding a
/// snapshot makes the writer wait — is never held up for long). A poll reads the new rows of every key, and
/// keeps those of each run's KL key.
///
/// The KL key is chosen per run, among the keys the run has logged (`latest_metrics`, one row per run and
/// key): the best of ``MetricKeys/klAliases``, fixed once chosen; or the `--metric` key for every run.
///
/// MLflow stores NaN as `value = 0` with `is_nan = 1`, and ±infinity as ±1.7976931348623157e308 (the
/// largest double; `SqlAlchemyStore._get_metric_value_details`): both are read back as what was logged.
public final class MLflowStoreReader: StoreReader {
    public let path: String
    /// Rows fetched per query.
    public var batchSize = 100_000
    public var watchedPaths: [String] { [path, path + "-wal"] }

    private let database: SQLiteDatabase
    private let selection: MetricSelection
    private let runsSQL: String
    private let runSQL: String
    private let metricsSQL: String
    private let keysSQL: String
    private var lastMetricRow: Int64 = 0
    private var lastRunRow: Int64 = 0
    /// Runs by run id; nil for a run left out (deleted).
    private var runByID: [String: Int?] = [:]
    private var runs: [Run] = []
    private var names = StoreRunNames()

    private struct Run {
        let name: String
        var key: StoreKeyChoice
        var keysReported = false
    }

    public init(path: String, metric: MetricSelection = .automatic) throws(StoreError) {
        self.path = path
        selection = metric
        database = SQLiteDatabase(path: path)
        let (tables, metrics, runColumns) = try database.read {
            (connection) throws(StoreError) -> (Set<String>, Set<String>, Set<String>) in
            let tables = try connection.tables()
            guard tables.isSuperset(of: ["metrics", "runs", "experiments"]) else { return (tables, [], []) }
            return (tables, try connection.columns(of: "metrics"), try connection.columns(of: "runs"))
        }
        if tables.isEmpty { throw .noTablesYet(path: path) }
        for table in ["metrics", "runs", "experiments"] where !tables.contains(table) {
            throw Self.notMLflow(path, "no \(table) table")
        }
        for column in ["key", "value", "step", "run_uuid"] where !metrics.contains(column) {
            throw Self.notMLflow(path, "the metrics table has no \(column) column")
        }
        guard runColumns.contains("run_uuid") else {
            throw Self.notMLflow(path, "the runs table has no run_uuid")
        }
        // The run name: the `name` column (MLflow ≥ 1.x), else the `mlflow.runName` tag, else the run id.
        var name = "r.run_uuid"
        if tables.contains("tags") {
            name =
                "(SELECT t.value FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = 'mlflow.runName'), "
                + name
        }
        if runColumns.contains("name") { name = "NULLIF(r.name, ''), " + name }
        let experiment =
            runColumns.contains("experiment_id")
            ? "(SELECT e.name FROM experiments e WHERE e.experiment_id = r.experiment_id)" : "NULL"
        let deleted =
            runColumns.contains("lifecycle_stage") ? "coalesce(r.lifecycle_stage, '') = 'deleted'" : "0"
        let select = "SELECT r.rowid, r.run_uuid, coalesce(\(name)), \(experiment), \(deleted) FROM runs r"
        runsSQL = select + " WHERE r.rowid > ?1 ORDER BY r.rowid"
        runSQL = select + " WHERE r.run_uuid = ?1"
        let isNaN = metrics.contains("is_nan") ? "is_nan" : "0"
        metricsSQL =
            "SELECT rowid, run_uuid, key, step, value, \(isNaN) FROM metrics WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
        keysSQL =
            tables.contains("latest_metrics")
            ? "SELECT key FROM latest_metrics WHERE run_uuid = ?1"
            : "SELECT DISTINCT key FROM metrics WHERE run_uuid = ?1"
    }

    private static func notMLflow(_ path: String, _ reason: String) -> StoreError {
        .notAStore(path: path, kind: "an MLflow tracking store", reason: reason)
    }

    public func poll() throws(StoreError) -> [RunUpdate] {
        let start = (lastMetricRow, lastRunRow, runByID, runs, names)
        return try database.read { (connection) throws(StoreError) in
            // A second read starts where the first did.
            (lastMetricRow, lastRunRow, runByID, runs, names) = start
            return try poll(connection)
        }
    }

    private func poll(_ connection: SQLiteConnection) throws(StoreError) -> [RunUpdate] {
        var updates: [RunUpdate] = []
        var slotByRun: [Int: Int] = [:]
        func slot(_ run: Int) -> Int {
            if let existing = slotByRun[run] { return existing }
            slotByRun[run] = updates.count
            updates.append(RunUpdate(run: runs[run].name, metricKey: runs[run].key.chosenKey))
            return updates.count - 1
        }
        try connection.query(runsSQL, [.integer(lastRunRow)]) { row in
            lastRunRow = row.integer(0)
            if let run = register(row) { _ = slot(run) }
        }
        var triedChoosing: Set<Int> = []
        var lastID: [UInt8]?
        var lastRun: Int?
        while true {
            var fetched = 0
            try connection.query(metricsSQL, [.integer(lastMetricRow), .integer(Int64(batchSize))]) {
                (row) throws(StoreError) in
                fetched += 1
                lastMetricRow = row.integer(0)
                if lastID == nil || !row.withText(1, { $0.elementsEqual(lastID!) }) {
                    lastID = row.withText(1) { Array($0) }
                    lastRun = try run(id: String(decoding: lastID!, as: UTF8.self), connection)
                    if let lastRun { _ = slot(lastRun) }
                }
                guard let run = lastRun else { return }
                if (runs[run].key.isChoosing || !runs[run].keysReported) && triedChoosing.insert(run).inserted
                {
                    let keys = try keys(ofRun: String(decoding: lastID!, as: UTF8.self), connection)
                    if runs[run].key.isChoosing && runs[run].key.choose(among: keys) {
                        updates[slot(run)].metricKey = runs[run].key.chosenKey
                    } else if !runs[run].keysReported {
                        // A run without KL, or without the `--metric` key: its keys say what it has (once).
                        runs[run].keysReported = true
                        if runs[run].key.isChoosing || !keys.contains(runs[run].key.chosenKey!) {
                            updates[slot(run)].keysSeen = Array(keys.sorted().prefix(20))
                        }
                    }
                }
                guard row.withText(2, { runs[run].key.matches($0) }) else { return }
                let at = slot(run)
                updates[at].rows += 1
                if let sample = Self.sample(
                    step: row.integer(3), value: row.number(4), isNaN: row.integer(5) != 0)
                {
                    updates[at].samples.append(sample)
                } else {
                    updates[at].missingValues += 1
                }
            }
            if fetched < batchSize { break }
        }
        return updates
    }

    /// One `metrics` row as a sample: NaN where `is_nan` says so, MLflow's stand-ins for ±infinity as
    /// ±infinity. Nil for a value that is not a number (NULL, text).
    public static func sample(step: Int64, value: Double?, isNaN: Bool) -> MetricSample? {
        if isNaN { return MetricSample(step: step, value: .nan) }
        guard var value else { return nil }
        if value == .greatestFiniteMagnitude { value = .infinity }
        if value == -.greatestFiniteMagnitude { value = -.infinity }
        return MetricSample(step: step, value: value)
    }

    /// The run a metrics row belongs to, looked up if it was made after the last read of `runs`.
    private func run(id: String, _ connection: SQLiteConnection) throws(StoreError) -> Int? {
        if let known = runByID[id] { return known }
        var found: Int?
        try connection.query(runSQL, [.text(id)]) { (row) throws(StoreError) in found = register(row) }
        if runByID[id] == nil { runByID[id] = .some(nil) }  // not in `runs` at all: its rows are left out
        return found
    }

    /// Makes a run of a `runs` row (rowid, run id, name, experiment, deleted), unless it is known or deleted.
    private func register(_ row: SQLiteConnection.Row) -> Int? {
        let id = row.text(1)
        if let known = runByID[id] { return known }
        guard row.integer(4) == 0 else {
            runByID[id] = .some(nil)
            return nil
        }
        let experiment = row.isNull(3) ? nil : row.text(3)
        runs.append(
            Run(
                name: names.name(for: row.text(2), group: experiment),
                key: StoreKeyChoice(selection: selection)))
        runByID[id] = runs.count - 1
        return runs.count - 1
    }

    private func keys(ofRun id: String, _ connection: SQLiteConnection) throws(StoreError) -> [String] {
        var keys: [String] = []
        try connection.query(keysSQL, [.text(id)]) { row in keys.append(row.text(0)) }
        return keys
    }
}
