/// Follows a Trackio project database (`$TRACKIO_DIR/<project>.db`, by default under
/// `~/.cache/huggingface/trackio`), read-only, while Trackio writes it.
///
/// Trackio's table `metrics(id INTEGER PRIMARY KEY AUTOINCREMENT, run_id, timestamp, run_name, step,
/// metrics)` holds one row per `trackio.log()`: `metrics` is the logged dict as one JSON object (orjson's
/// bytes, so usually a BLOB), NaN and ±infinity as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
/// Databases written before Trackio 0.24 have no `run_id`: a run is then its name.
///
/// Every run becomes a kltop run named by its Trackio run name; a second run of the same name (Trackio
/// makes a new run for `init(name=…)` unless told to resume) is counted, `baseline~2`. New rows are found
/// by id, in batches, each its own short read (see ``RlwatchStoreReader``). Each row's JSON is read as a
/// JSON Lines record (``JSONLineScanner``: the same KL key choice, per run, and the same numbers), its step
/// from the `step` column.
public final class TrackioStoreReader: StoreReader {
    public let path: String
    /// Rows fetched per query.
    public var batchSize = 100_000
    public var watchedPaths: [String] { [path, path + "-wal"] }

    private let database: SQLiteDatabase
    private let selection: MetricSelection
    private let sql: String
    private var lastRow: Int64 = 0
    private var runByID: [String: Int] = [:]
    private var runs: [Run] = []
    private var names = StoreRunNames()

    struct Run {
        let name: String
        var rows = TrackioRows(selection: .automatic)
        var keysReported = false
    }

    public init(path: String, metric: MetricSelection = .automatic) throws(StoreError) {
        self.path = path
        selection = metric
        database = SQLiteDatabase(path: path)
        let (tables, columns) = try database.read { (connection) throws(StoreError) in
            let tables = try connection.tables()
            return (tables, tables.contains("metrics") ? try connection.columns(of: "metrics") : [])
        }
        if tables.isEmpty { throw .noTablesYet(path: path) }
        guard tables.contains("metrics") else {
            throw .notAStore(path: path, kind: "a Trackio project database", reason: "no metrics table")
        }
        for column in ["id", "run_name", "step", "metrics"] where !columns.contains(column) {
            throw .notAStore(
                path: path, kind: "a Trackio project database",
                reason: "the metrics table has no \(column) column")
        }
        let identity = columns.contains("run_id") ? "coalesce(NULLIF(run_id, ''), run_name)" : "run_name"
        sql =
            "SELECT id, \(identity), run_name, step, metrics FROM metrics WHERE id > ?1 ORDER BY id LIMIT ?2"
    }

    public func poll() throws(StoreError) -> [RunUpdate] {
        let start = (lastRow, runByID, runs, names)
        return try database.read { (connection) throws(StoreError) in
            (lastRow, runByID, runs, names) = start  // a second read starts where the first did
            return try poll(connection)
        }
    }

    private func poll(_ connection: SQLiteConnection) throws(StoreError) -> [RunUpdate] {
        var updates: [RunUpdate] = []
        var slotByRun: [Int: Int] = [:]
        var lastID: [UInt8]?
        var lastRun = 0
        while true {
            var fetched = 0
            try connection.query(sql, [.integer(lastRow), .integer(Int64(batchSize))]) { row in
                fetched += 1
                lastRow = row.integer(0)
                // Rows of one run come in runs of rows: compare bytes, look up only on a change.
                if lastID == nil || !row.withText(1, { $0.elementsEqual(lastID!) }) {
                    let bytes = row.withText(1) { Array($0) }
                    lastID = bytes
                    let id = String(decoding: bytes, as: UTF8.self)
                    if let known = runByID[id] {
                        lastRun = known
                    } else {
                        runs.append(
                            Run(name: names.name(for: row.text(2)), rows: TrackioRows(selection: selection)))
                        lastRun = runs.count - 1
                        runByID[id] = lastRun
                    }
                }
                let at: Int
                if let existing = slotByRun[lastRun] {
                    at = existing
                } else {
                    at = updates.count
                    slotByRun[lastRun] = at
                    updates.append(RunUpdate(run: runs[lastRun].name))
                }
                let outcome = row.withBytes(4) { runs[lastRun].rows.read(json: $0, step: row.integer(3)) }
                switch outcome {
                case .sample(let sample):
                    updates[at].rows += 1
                    updates[at].samples.append(sample)
                case .missingValue:
                    updates[at].rows += 1
                    updates[at].missingValues += 1
                case .noMetric:
                    updates[at].rows += 1
                    if !runs[lastRun].keysReported {
                        runs[lastRun].keysReported = true
                        updates[at].keysSeen = row.withBytes(4) { JSONLineScanner.keys(of: $0) }
                    }
                case .bad(let reason):
                    updates[at].countBadLine(
                        BadLine(
                            lineNumber: Int(clamping: lastRow), reason: "metrics row id \(lastRow): \(reason)"
                        ))
                case .blank:
                    updates[at].countBadLine(
                        BadLine(
                            lineNumber: Int(clamping: lastRow), reason: "metrics row id \(lastRow): empty"))
                }
            }
            if fetched < batchSize { break }
        }
        for (run, at) in slotByRun { updates[at].metricKey = runs[run].rows.chosenKey }
        return updates
    }
}

/// Reads the rows of one Trackio run: each row's `metrics` JSON for the run's KL key, the step from its
/// column. Pure, for the fuzzer.
public struct TrackioRows: Sendable {
    private var scanner: JSONLineScanner

    public init(selection: MetricSelection) {
        scanner = JSONLineScanner(selection: selection)
    }

    /// The key chosen so far (the `--metric` key from the start).
    public var chosenKey: String? { scanner.chosenKey }

    /// One row. The JSON's own `step` key, if the user logged one, is not the row's step: Trackio's column is.
    public mutating func read(json: UnsafeBufferPointer<UInt8>, step: Int64) -> JSONLineScanner.Outcome {
        switch scanner.scan(json) {
        case .sample(let sample): .sample(MetricSample(step: step, value: sample.value))
        case let other: other
        }
    }
}
