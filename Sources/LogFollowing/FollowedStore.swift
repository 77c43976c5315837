import RunLogs

#if canImport(Glibc)
    import Glibc
#endif

/// A store of runs followed while its writer writes it — rlwatch's SQLite store, MLflow's `mlflow.db` or
/// `mlruns/`, a Trackio project database (``StoreReader``): every run in it becomes a kltop run, and for
/// rlwatch the alerts it recorded itself are reported beside kltop's own.
///
/// A database is queried only when it or its write-ahead log changed (size, modification time, SQLite's
/// commit counters: ``signature(_:)``), so a quiet store costs two `stat` calls and two short reads per check; a file store's reader stats its runs' files itself. Reading
/// is read-only and never locks the writer (see ``RlwatchStoreReader``).
final class FollowedStore {
    let path: String
    private let options: FollowOptions
    /// Found in a folder under a name that does not say it is a store (`optuna.db`): that it turns out to be
    /// none, or an empty database, is no news.
    private let quiet: Bool
    private let isFolder: Bool
    private var reader: (any StoreReader)?
    private var runs: [String: Int] = [:]
    private var statistics: [String: ReadStatistics] = [:]
    private var lastSignature: [Int] = []
    private var announcedProblem: String?

    init(path: String, options: FollowOptions, quiet: Bool = false) {
        self.path = path
        self.options = options
        self.quiet = quiet
        isFolder = PathSpec.isDirectory(path)
    }

    /// Paths whose changes mean the store has news (empty: ask the reader every time).
    var watchedPaths: [String] { reader?.watchedPaths ?? (isFolder ? [path] : [path, path + "-wal"]) }

    /// Folders to watch with inotify, beyond those of the scans.
    var watchedDirectories: [String] { reader?.watchedDirectories ?? [] }

    /// Whether any of the `changed` paths (from inotify) is news for this store.
    func isAffected(by changed: Set<String>) -> Bool {
        if isFolder { return changed.contains { $0 == path || $0.hasPrefix(path + "/") } }
        return watchedPaths.contains(where: changed.contains)
    }

    /// Reads what the writer added since the last poll. `addRun` makes a kltop run for a store run seen for
    /// the first time and returns its number.
    func poll(addRun: (_ name: String) -> Int, emit: (FollowEvent) -> Void) {
        let watched = watchedPaths
        let signature = watched.flatMap(Self.signature)
        // Nothing changed: nothing new to read, and a store that could not be opened would fail again.
        if signature == lastSignature && !(reader != nil && watched.isEmpty) { return }
        lastSignature = signature
        if reader == nil && !open(emit: emit) { return }
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
            statistics.badLines += update.badLines
            for line in update.firstBadLines where statistics.firstBadLines.count < 5 {
                statistics.firstBadLines.append(line)
            }
            if !update.keysSeen.isEmpty { statistics.keysSeen = update.keysSeen }
            self.statistics[update.run] = statistics
            if !update.samples.isEmpty || update.rows > 0 || update.badLines > 0 || !update.keysSeen.isEmpty {
                emit(.samples(run: run, update.samples, metricKey: update.metricKey, statistics: statistics))
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
            reader = try StoreReaders.open(path: path, format: options.inputFormat, metric: options.metric)
            announcedProblem = nil
            return true
        } catch {
            if quiet && Self.isNoStore(error) { return false }
            announce(Notice(.cannotOpen, path: path, error.message), emit)
            return false
        }
    }

    /// Whether the error says the file is no store (yet), rather than a store that cannot be read.
    private static func isNoStore(_ error: StoreError) -> Bool {
        switch error {
        case .noTablesYet, .notAnRlwatchStore, .notAStore: true
        case .cannotOpen(_, let reason), .queryFailed(_, let reason): reason.contains("not a database")
        }
    }

    private func announce(_ notice: Notice, _ emit: (FollowEvent) -> Void) {
        guard announcedProblem != notice.message else { return }
        announcedProblem = notice.message
        emit(.notice(run: nil, notice))
    }

    /// Size and modification time, or nothing for a file that is not there; for a database, SQLite's own
    /// record of commits as well.
    ///
    /// Size and time alone miss commits. A WAL commit appends its frames to `-wal` first and makes them
    /// visible only after, by updating the WAL index header in `-shm`, which SQLite writes through a memory
    /// map: no inotify event, no new modification time. A look between the two reads the old snapshot and
    /// keeps the new size and time, and the commit would stay unread until the next one (the last batch of a
    /// run, never). So the signature holds the WAL index header (the first 48 bytes of `-shm`: its change
    /// counter and last frame), and for rollback-journal databases the header's file change counter (bytes
    /// 24–27), which every commit increments, even two within one tick of the file system's clock.
    private static func signature(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [-1] }
        var signature = [Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
        if (info.st_mode & S_IFMT) == S_IFREG {
            if path.hasSuffix("-wal") {
                signature += bytes(of: String(path.dropLast(4)) + "-shm", at: 0, count: 48)
            } else {
                signature += bytes(of: path, at: 24, count: 4)
            }
        }
        return signature
    }

    /// `count` bytes of a file from `offset` (fewer where it is shorter; none where it cannot be read).
    private static func bytes(of path: String, at offset: Int, count: Int) -> [Int] {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: count)
        let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        return read > 0 ? buffer[0..<read].map(Int.init) : []
    }

    /// Names that say a file is a store: a problem reading it is news even when it was found in a folder.
    static func isStoreName(_ path: String) -> Bool {
        ["metrics.db", "mlflow.db"].contains(RunLogFiles.name(of: path))
    }

    /// Whether `path` is a store: a folder (a scan lists one only as MLflow's file store), or a file that is
    /// an SQLite database (by its header), or, if it does not exist yet or is too short to hold the header,
    /// whether its name says it will be one: SQLite creates the file empty
    /// when the writer connects (rlwatch's `sqlite3.connect()`), and writes its first page only with the
    /// first statement.
    static func isStore(path: String, forced: LogFormat?) -> Bool {
        // A folder is among the files of a scan only as a file store (``RunLogFiles/scan(_:)``).
        if PathSpec.isDirectory(path) { return true }
        if let forced { return forced.isStore }
        // Only a regular file is looked into: reading the start of a FIFO would take bytes that belong to
        // the run, and opening one at all can let its writer go ahead and then find no reader.
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG { return false }
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return path.hasSuffix(".db") }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let count = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        if count >= 0 && count < 16 { return path.hasSuffix(".db") }  // an SQLite file just made
        return count == 16 && header == Array("SQLite format 3\0".utf8)
    }
}
