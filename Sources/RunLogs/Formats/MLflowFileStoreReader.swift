#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Follows MLflow's file store (`mlruns/`, tracking URI `file:./mlruns`; deprecated since MLflow 3.7, still
/// found on disks) while MLflow writes it.
///
/// The layout (`mlflow/store/tracking/file_store.py`): `<root>/<experiment id>/meta.yaml` (the experiment's
/// `name`), `<root>/<experiment id>/<run id>/meta.yaml` (`run_id`, `run_name`, `lifecycle_stage`),
/// `…/<run id>/tags/mlflow.runName` (the run name), and `…/<run id>/metrics/<key>`, a file per key to
/// which each `log_metric` appends a line `"<timestamp ms> <value> <step>"` (older MLflow: no step; with a
/// dataset: two more fields). A key with `/` is a path of folders: `metrics/train/kl`.
///
/// Every run becomes a kltop run named by its run name (``StoreRunNames``: a second run of the same name is
/// named after its experiment). Each run's KL key is chosen among its metric files as in
/// ``MLflowStoreReader``, and only that file is read, from where the last poll stopped: a poll stats one
/// file per run and reads only the bytes added, and lists a folder only when its modification time says an
/// entry was added (an experiment, a run).
public final class MLflowFileStoreReader: StoreReader {
    public let path: String
    public var watchedPaths: [String] { [] }
    /// The root, the experiment folders, and the folder holding each run's KL file (or its `metrics`
    /// folder while the key is being chosen).
    public var watchedDirectories: [String] {
        [path] + experiments.values.map(\.folder).sorted() + runs.map(\.watchedFolder)
    }

    private let selection: MetricSelection
    private var rootStamp: [Int] = []
    private var rootComplete = false
    /// Experiments by folder name.
    private var experiments: [String: Experiment] = [:]
    private var runs: [Run] = []
    /// Run folders made into runs, or left out (deleted runs).
    private var seenRunFolders: Set<String> = []
    private var names = StoreRunNames()
    /// Bytes read per `read` call.
    static let chunkSize = 1 << 20

    private struct Experiment {
        let folder: String
        let name: String
        var stamp: [Int] = []
        var complete = false
    }

    private struct Run {
        let name: String
        let folder: String
        var key: StoreKeyChoice
        var keysReported = false
        var lines = MLflowMetricLines()
        var offset = 0
        var inode: UInt64 = 0

        var metricsFolder: String { folder + "/metrics" }
        var metricFile: String? { key.chosenKey.map { metricsFolder + "/" + $0 } }
        var watchedFolder: String {
            guard let file = metricFile, let slash = file.lastIndex(of: "/") else { return metricsFolder }
            return String(file[..<slash])
        }
    }

    public init(path: String, metric: MetricSelection = .automatic) throws(StoreError) {
        self.path = path
        selection = metric
        guard let directory = opendir(path) else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        closedir(directory)
    }

    public func poll() throws(StoreError) -> [RunUpdate] {
        var updates: [RunUpdate] = []
        let stamp = Self.stamp(path)
        if stamp.isEmpty { throw .cannotOpen(path: path, reason: "the folder is gone") }
        if stamp != rootStamp || !rootComplete {
            rootStamp = stamp
            rootComplete = true
            for child in Self.children(of: path) where experiments[child] == nil {
                let folder = path + "/" + child
                guard Self.isDirectory(folder) else { continue }
                guard let meta = Self.meta(folder + "/meta.yaml") else {
                    // An experiment folder whose meta.yaml is still being written; other folders (no digits)
                    // are not experiments.
                    if child.allSatisfy(\.isNumber) { rootComplete = false }
                    continue
                }
                guard meta["experiment_id"] != nil, meta["lifecycle_stage"] != "deleted" else { continue }
                experiments[child] = Experiment(folder: folder, name: meta["name"] ?? child)
            }
        }
        // Runs are named in the order MLflow made them (start time, then id), across experiments, as the
        // SQLite store's are: the first of two runs of one name keeps the plain name.
        var found: [FoundRun] = []
        for (id, experiment) in experiments.sorted(by: { $0.key < $1.key }) {
            let stamp = Self.stamp(experiment.folder)
            guard stamp != experiment.stamp || !experiment.complete else { continue }
            experiments[id]!.stamp = stamp
            experiments[id]!.complete = discoverRuns(in: experiment, &found)
        }
        for run in found.sorted(by: { ($0.start, $0.id) < ($1.start, $1.id) }) {
            let name = names.name(for: run.name, group: run.experiment)
            runs.append(Run(name: name, folder: run.folder, key: StoreKeyChoice(selection: selection)))
            updates.append(RunUpdate(run: name))
        }
        var slotByName: [String: Int] = [:]
        for (at, update) in updates.enumerated() { slotByName[update.run] = at }
        for index in runs.indices {
            var update = RunUpdate(run: runs[index].name, metricKey: runs[index].key.chosenKey)
            readAppended(&runs[index], into: &update)
            if let at = slotByName[update.run] {
                updates[at] = update  // a run found in this poll: its first update carries what it has
            } else if update.rows > 0 || update.badLines > 0 || !update.keysSeen.isEmpty {
                updates.append(update)
            }
        }
        return updates
    }

    private struct FoundRun {
        let start: Int64
        let id: String
        let name: String
        let experiment: String
        let folder: String
    }

    /// The experiment's new run folders. Returns false when a run folder is not complete yet (no meta.yaml):
    /// the experiment's folder is listed again at the next poll.
    private func discoverRuns(in experiment: Experiment, _ found: inout [FoundRun]) -> Bool {
        var complete = true
        for child in Self.children(of: experiment.folder) {
            let folder = experiment.folder + "/" + child
            guard !seenRunFolders.contains(folder), Self.isDirectory(folder) else { continue }
            guard let meta = Self.meta(folder + "/meta.yaml"), meta["run_id"] ?? meta["run_uuid"] != nil
            else {
                // `tags`, `models`, `datasets` are not runs; a run id is 32 hex digits.
                if child.count == 32 && child.allSatisfy(\.isHexDigit) { complete = false }
                continue
            }
            seenRunFolders.insert(folder)
            guard meta["lifecycle_stage"] != "deleted" else { continue }
            let tag = Self.contents(folder + "/tags/mlflow.runName", limit: 4096).map {
                String(decoding: $0, as: UTF8.self)
            }
            let name = tag.flatMap { $0.isEmpty ? nil : $0 } ?? meta["run_name"] ?? child
            let start = Int64(meta["start_time"] ?? "") ?? 0
            found.append(
                FoundRun(start: start, id: child, name: name, experiment: experiment.name, folder: folder))
        }
        return complete
    }

    /// Reads what was appended to the run's KL file since the last poll.
    private func readAppended(_ run: inout Run, into update: inout RunUpdate) {
        if run.key.isChoosing {
            let keys = Self.metricKeys(in: run.metricsFolder)
            if run.key.choose(among: keys) {
                update.metricKey = run.key.chosenKey
            } else {
                if !run.keysReported && !keys.isEmpty {
                    run.keysReported = true
                    update.keysSeen = Array(keys.sorted().prefix(20))
                }
                return
            }
        }
        guard let file = run.metricFile else { return }
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 && !run.keysReported {
            // No file for the `--metric` key: the run's keys say what it has (once).
            let keys = Self.metricKeys(in: run.metricsFolder)
            if !keys.isEmpty {
                run.keysReported = true
                update.keysSeen = Array(keys.sorted().prefix(20))
            }
        }
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
        let inode = UInt64(info.st_ino)
        if inode != run.inode || Int(info.st_size) < run.offset {
            // Made again (or cut short): MLflow never does this, so read it anew.
            run.inode = inode
            run.offset = 0
            run.lines = MLflowMetricLines()
        }
        guard Int(info.st_size) > run.offset else { return }
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress, $0.count, off_t(run.offset))
            }
            guard count > 0 else { break }
            run.offset += count
            buffer.withUnsafeBufferPointer { bytes in
                run.lines.feed(UnsafeBufferPointer(rebasing: bytes[0..<count])) { outcome in
                    switch outcome {
                    case .sample(let sample):
                        update.rows += 1
                        update.samples.append(sample)
                    case .bad(let line):
                        update.countBadLine(line)
                    }
                }
            }
        }
    }

    // MARK: - Recognising a file store

    /// Whether `directory` is an MLflow file store's root: it holds MLflow's Default experiment
    /// (`0/meta.yaml`, made with the store), or it is named `mlruns` and holds an experiment.
    public static func isStore(_ directory: String) -> Bool {
        if isFile(directory + "/0/meta.yaml") { return true }
        guard directory.split(separator: "/").last == "mlruns" else { return false }
        return children(of: directory).contains { isFile(directory + "/" + $0 + "/meta.yaml") }
    }

    /// The store root above a run folder's `meta.yaml` (`<root>/<experiment>/<run>/meta.yaml`, the run
    /// folder holding `metrics/`, the experiment folder its own `meta.yaml`): how a store whose Default
    /// experiment was deleted is still recognised. Nil for any other meta.yaml.
    public static func root(ofMetaFile metaFile: String) -> String? {
        guard let run = parent(metaFile), isDirectory(run + "/metrics"), let experiment = parent(run),
            isFile(experiment + "/meta.yaml"), let root = parent(experiment)
        else { return nil }
        return root
    }

    // MARK: - Files

    private static func parent(_ path: String) -> String? {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
        return String(path[..<slash])
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Inode and modification time: a folder's changes when an entry is added, removed or renamed.
    private static func stamp(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        return [Int(info.st_ino), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }

    /// The names in a folder, hidden ones (`.trash`) left out, sorted.
    static func children(of directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    /// The metric keys of a run: the files below `metrics/`, a key with `/` being folders.
    static func metricKeys(in folder: String, prefix: String = "", depth: Int = 0) -> [String] {
        guard depth < 8 else { return [] }
        var keys: [String] = []
        for name in children(of: folder) {
            let path = folder + "/" + name
            if isDirectory(path) {
                keys += metricKeys(in: path, prefix: prefix + name + "/", depth: depth + 1)
            } else {
                keys.append(prefix + name)
            }
        }
        return keys
    }

    private static func contents(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, limit) }
        guard count >= 0 else { return nil }
        return Array(bytes[0..<count])
    }

    /// The top-level `key: value` lines of a meta.yaml (all MLflow writes there is flat), quotes taken off.
    /// Nil when the file is not there or empty (being written).
    static func meta(_ path: String) -> [String: String]? {
        guard let bytes = contents(path, limit: 64 * 1024), !bytes.isEmpty else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let first = line.first, first != " ", first != "-", first != "#",
                let colon = line.firstIndex(of: ":")
            else { continue }
            let key = String(line[..<colon])
            var value = line[line.index(after: colon)...].trimmingSpaces
            if value.count >= 2, let quote = value.first, quote == "'" || quote == "\"", value.last == quote {
                value = value.dropFirst().dropLast()
                if quote == "'" { value = Substring(value.replacing("''", with: "'")) }
            }
            if value == "null" || value == "~" { continue }
            fields[key] = String(value)
        }
        return fields
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return text
    }

}

/// The lines of one MLflow metric file, fed as they are appended: `"<timestamp> <value> <step>"`, or two
/// fields (no step: step 0), or five (a dataset's name and digest after the step), split on single spaces
/// as MLflow's `FileStore._get_metric_from_line` splits them. The value is Python's `str(float)`: `nan`,
/// `inf`, `-inf` included. Pure, for the fuzzer.
public struct MLflowMetricLines: Sendable {
    public enum Outcome: Equatable, Sendable {
        case sample(MetricSample)
        case bad(BadLine)
    }

    private var partial: [UInt8] = []
    /// Complete lines fed so far.
    public private(set) var lineNumber = 0
    /// A line longer than this is bad (and skipped to its end): no metric line is.
    static let maximumLineLength = 64 * 1024
    private var skippingLongLine = false

    public init() {}

    /// Feeds the next bytes of the file; `body` gets each complete line's outcome. An unterminated last
    /// line waits for its newline (the writer may be in the middle of it). Blank lines are skipped.
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Outcome) -> Void) {
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                if !skippingLongLine { partial += bytes[start...] }
                if partial.count > Self.maximumLineLength {
                    partial = []
                    skippingLongLine = true
                }
                return
            }
            lineNumber += 1
            // Too long however it arrived: in one piece or in many (then only its start was kept).
            if skippingLongLine || partial.count + (newline - start) > Self.maximumLineLength {
                skippingLongLine = false
                partial = []
                body(.bad(BadLine(lineNumber: lineNumber, reason: "a line longer than 64 KiB")))
            } else if partial.isEmpty {
                let line = UnsafeBufferPointer(rebasing: bytes[start..<newline])
                if let outcome = Self.parse(line, lineNumber: lineNumber) { body(outcome) }
            } else {
                partial += bytes[start..<newline]
                let line = partial
                partial = []
                line.withUnsafeBufferPointer { line in
                    if let outcome = Self.parse(line, lineNumber: lineNumber) { body(outcome) }
                }
            }
            start = newline + 1
        }
    }

    /// One line without its newline; nil for a blank one.
    public static func parse(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int = 1) -> Outcome? {
        var end = line.count
        var begin = 0
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }
        while end > begin && isSpace(line[end - 1]) { end -= 1 }
        while begin < end && isSpace(line[begin]) { begin += 1 }
        if begin == end { return nil }
        var fields: [Range<Int>] = []
        var fieldStart = begin
        for i in begin...end where i == end || line[i] == 0x20 {
            fields.append(fieldStart..<i)
            fieldStart = i + 1
            if fields.count > 5 { break }
        }
        func bad(_ reason: String) -> Outcome { .bad(BadLine(lineNumber: lineNumber, reason: reason)) }
        guard fields.count == 2 || fields.count == 3 || fields.count == 5 else {
            return bad("not \"timestamp value step\": \(fields.count) fields")
        }
        guard let base = line.baseAddress else { return nil }
        guard integer(base, fields[0]) != nil else { return bad("the timestamp is not a whole number") }
        guard let value = JSONLineScanner.parseDouble(base, fields[1]) else {
            return bad("the value is not a number")
        }
        var step: Int64 = 0
        if fields.count >= 3 {
            guard let parsed = integer(base, fields[2]) else { return bad("the step is not a whole number") }
            step = parsed
        }
        return .sample(MetricSample(step: step, value: value))
    }

    /// A decimal integer, as Python's `int()` reads one (sign, digits); nil beyond 64 bits.
    static func integer(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) -> Int64? {
        var i = range.lowerBound
        var negative = false
        if i < range.upperBound && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
            negative = p[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < range.upperBound else { return nil }
        var value: Int64 = 0
        while i < range.upperBound {
            let digit = p[i] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) =
                negative
                ? times.subtractingReportingOverflow(Int64(digit))
                : times.addingReportingOverflow(Int64(digit))
            guard !o1 && !o2 else { return nil }
            value = sum
            i += 1
        }
        return value
    }
}
