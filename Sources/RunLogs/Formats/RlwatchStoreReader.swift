#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Follows rlwatch's SQLite store (`rlwatch_logs/metrics.db`: tables `runs`, `metrics`, `alerts`), read-only,
/// while rlwatch writes it.
///
/// Not a byte stream, so not a ``SampleReader``: each ``poll()`` returns, per run, the rows and stored alerts
/// added since the last poll, found incrementally by their ids (`INTEGER PRIMARY KEY AUTOINCREMENT`, so
/// ids only grow). Rows are read in batches, each its own short read transaction, so that a huge first
/// read never holds one snapshot for long (in WAL mode that would only delay checkpoints; in rollback mode
/// it would make the writer wait). See ``SQLiteDatabase`` for how it is opened.
///
/// The KL series is the `kl_divergence` column. `--metric KEY` may name another column of `metrics`, or a
/// key of its `extra_json` (read with SQLite's `json_extract`).
public final class RlwatchStoreReader: StoreReader {
    public let path: String
    /// The column (or `extra_json` key) the KL series is read from.
    public let metricKey: String
    /// Rows fetched per query.
    public var batchSize = 100_000
    private let database: SQLiteDatabase
    private let valueExpression: String
    private let valueBinding: [SQLiteConnection.Binding]
    private var lastMetricID: Int64 = 0
    private var lastAlertID: Int64 = 0
    private var knownRuns: Set<String> = []
    public var watchedPaths: [String] { [path, path + "-wal"] }

    public init(path: String, metric: MetricSelection = .automatic) throws(RlwatchStoreError) {
        self.path = path
        database = SQLiteDatabase(path: path)
        let (columns, tables) = try database.read { (connection) throws(StoreError) in
            var columns: [String] = []
            try connection.query("SELECT name FROM pragma_table_info('metrics')") { row in
                columns.append(row.text(0))
            }
            var tables = 0
            try connection.query("SELECT count(*) FROM sqlite_master WHERE type = 'table'") { row in
                tables = Int(row.integer(0))
            }
            return (columns, tables)
        }
        if columns.isEmpty && tables == 0 { throw .noTablesYet(path: path) }
        for required in ["id", "run_id", "step"] where !columns.contains(required) {
            throw .notAnRlwatchStore(path: path, reason: "no metrics table with id, run_id and step columns")
        }
        switch metric {
        case .automatic:
            guard columns.contains("kl_divergence") else {
                throw .notAnRlwatchStore(path: path, reason: "the metrics table has no kl_divergence column")
            }
            metricKey = "kl_divergence"
            valueExpression = "\"kl_divergence\""
            valueBinding = []
        case .key(let key):
            let name = key.hasPrefix("metrics.") ? String(key.dropFirst("metrics.".count)) : key
            metricKey = name
            if columns.contains(name) {
                valueExpression = "\"" + name + "\""  // a name read from the schema, so safe to quote
                valueBinding = []
            } else {
                guard columns.contains("extra_json"), !name.contains("\"") else {
                    throw .notAnRlwatchStore(path: path, reason: "no column or extra_json key named \(name)")
                }
                valueExpression = "json_extract(extra_json, ?3)"
                valueBinding = [.text("$.\"" + name + "\"")]
            }
        }
    }

    /// The samples and stored alerts added since the last poll, one update per run that has any, plus an
    /// empty update for a run seen for the first time (so that a run that has just started shows).
    public func poll() throws(RlwatchStoreError) -> [RunUpdate] {
        let start = (lastMetricID, lastAlertID, knownRuns)
        return try database.read { (connection) throws(StoreError) in
            (lastMetricID, lastAlertID, knownRuns) = start  // a second read starts where the first did
            return try poll(connection)
        }
    }

    private func poll(_ connection: SQLiteConnection) throws(RlwatchStoreError) -> [RunUpdate] {
        var updates: [RunUpdate] = []
        var index: [String: Int] = [:]
        func slot(_ run: String) -> Int {
            if let existing = index[run] { return existing }
            index[run] = updates.count
            updates.append(RunUpdate(run: run, metricKey: metricKey))
            return updates.count - 1
        }
        try connection.query("SELECT run_id FROM runs ORDER BY rowid") { row in
            let run = row.text(0)
            if knownRuns.insert(run).inserted { _ = slot(run) }
        }
        try readMetrics(connection) { run, sample, missing in
            let at = slot(run)
            updates[at].rows += 1
            if let sample { updates[at].samples.append(sample) }
            if missing { updates[at].missingValues += 1 }
        }
        try connection.query(
            "SELECT id, run_id, step, detector, severity, message FROM alerts WHERE id > ?1 ORDER BY id",
            [.integer(lastAlertID)]
        ) { row in
            lastAlertID = row.integer(0)
            let alert = RlwatchStoredAlert(
                run: row.text(1), step: row.integer(2), detector: row.text(3), severity: row.text(4),
                message: row.text(5))
            updates[slot(alert.run)].alerts.append(alert)
        }
        for update in updates { knownRuns.insert(update.run) }
        return updates
    }

    /// Reads the new metrics rows in batches; `body` gets the run, the sample (nil without a KL number) and
    /// whether the KL value was missing.
    private func readMetrics(_ connection: SQLiteConnection, _ body: (String, MetricSample?, Bool) -> Void)
        throws(RlwatchStoreError)
    {
        let sql =
            "SELECT id, run_id, step, \(valueExpression) FROM metrics WHERE id > ?1 ORDER BY id LIMIT ?2"
        var lastRun: [UInt8] = []
        var lastRunName = ""
        while true {
            var fetched = 0
            try connection.query(sql, [.integer(lastMetricID), .integer(Int64(batchSize))] + valueBinding) {
                row in
                fetched += 1
                lastMetricID = row.integer(0)
                // Rows of one run come in runs of rows: compare bytes, make a String only on a change.
                row.withText(1) { bytes in
                    if !bytes.elementsEqual(lastRun) {
                        lastRun = Array(bytes)
                        lastRunName = String(decoding: bytes, as: UTF8.self)
                    }
                }
                let value = row.number(3)
                let sample = value.map { MetricSample(step: row.integer(2), value: $0) }
                body(lastRunName, sample, value == nil)
            }
            if fetched < batchSize { return }
        }
    }
}
