import RunLogs

#if canImport(Glibc)
    import Glibc
#endif

/// rlwatch's SQLite store followed while rlwatch writes it: every run in it becomes a kltop run, and the
/// alerts rlwatch itself recorded are reported beside kltop's own.
///
/// The database is queried only when it or its write-ahead log changed (size or modification time), so a
/// quiet store costs two `stat` calls per check. Reading is read-only and never locks the writer (see
/// ``RlwatchStoreReader``).
final class FollowedStore {
    let path: String
    private let options: FollowOptions
    private var reader: RlwatchStoreReader?
    private var runs: [String: Int] = [:]
    private var statistics: [String: ReadStatistics] = [:]
    private var lastSignature: [Int] = []
    private var announcedProblem: String?

    init(path: String, options: FollowOptions) {
        self.path = path
        self.options = options
    }

    /// Paths whose changes mean the store has news.
    var watchedPaths: [String] { [path, path + "-wal"] }

    /// Reads what rlwatch added since the last poll. `addRun` makes a kltop run for a store run seen for the
    /// first time and returns its number.
    func poll(addRun: (_ name: String) -> Int, emit: (FollowEvent) -> Void) {
        let signature = watchedPaths.flatMap(Self.signature)
        if reader != nil && signature == lastSignature { return }
        if reader == nil && !open(emit: emit) { return }
        lastSignature = signature
        let updates: [RunUpdate]
        do {
            updates = try reader!.poll()
        } catch {
            announce(Notice(.cannotOpen, path: path, error.message), emit)
            reader = nil
            return
        }
        for update in updates {
            let run = runs[update.run] ?? addRun(update.run)
            runs[update.run] = run
            var statistics = self.statistics[update.run] ?? ReadStatistics()
            statistics.records += update.rows
            statistics.samples += update.samples.count
            statistics.missingValues += update.missingValues
            self.statistics[update.run] = statistics
            if !update.samples.isEmpty || update.rows > 0 {
                emit(.samples(run: run, update.samples, metricKey: reader!.metricKey, statistics: statistics))
            }
            if !update.alerts.isEmpty { emit(.recordedAlerts(run: run, update.alerts)) }
        }
    }

    private func open(emit: (FollowEvent) -> Void) -> Bool {
        var info = stat()
        if stat(path, &info) != 0 {
            announce(Notice(.waitingForFile, path: path, "waiting for the file to appear"), emit)
            return false
        }
        do {
            reader = try RlwatchStoreReader(path: path, metric: options.metric)
            announcedProblem = nil
            return true
        } catch {
            announce(Notice(.cannotOpen, path: path, error.message), emit)
            return false
        }
    }

    private func announce(_ notice: Notice, _ emit: (FollowEvent) -> Void) {
        guard announcedProblem != notice.message else { return }
        announcedProblem = notice.message
        emit(.notice(run: nil, notice))
    }

    /// Size and modification time, or nothing for a file that is not there.
    private static func signature(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [-1] }
        return [Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }

    /// Whether the file at `path` is an SQLite database (by its header), or, if it does not exist yet or is
    /// too short to hold the header, whether its name says it will be one: SQLite creates the file empty
    /// when the writer connects (rlwatch's `sqlite3.connect()`), and writes its first page only with the
    /// first statement.
    static func isStore(path: String, forced: LogFormat?) -> Bool {
        if let forced { return forced == .rlwatchStore }
        // Only a regular file is looked into: reading the start of a FIFO would take bytes that belong to
        // the run, and opening one at all can let its writer go ahead and then find no reader.
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG { return false }
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return path.hasSuffix(".db") }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let count = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        if count >= 0 && count < 16 { return path.hasSuffix(".db") }
        return count == 16 && header == Array("SQLite format 3\0".utf8)
    }
}
