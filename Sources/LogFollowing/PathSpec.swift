import RunLogs

#if canImport(Glibc)
    import Glibc
#endif

/// What a PATH argument names, and which files in it are run logs.
enum PathSpec: Equatable {
    case standardInput
    /// A file (or FIFO), followed by name even before it exists.
    case file(String)
    /// Every run log in the directory and below, including ones that appear later.
    case directory(String)
    /// A shell pattern kltop expands itself (when quoted on the command line), again as files appear.
    case glob(String)

    /// What `argument` names. Paths are normalized (``RunLogFiles/normalized(_:)``) so that the paths
    /// inotify reports are spelled as the ones being followed. A path that does not exist yet is a file,
    /// unless it ends in `/` (`runs/`) or its last component has no extension (`runs`, `outputs/ppo`):
    /// those are waited for as directories. Either way, whatever is at the path once it appears is followed
    /// as what it is (``scan()``).
    init(argument: String) {
        let path = RunLogFiles.normalized(argument)
        if argument == "-" {
            self = .standardInput
        } else if argument.contains(where: { "*?[".contains($0) }) && !Self.exists(argument) {
            self = .glob(path)
        } else if Self.isDirectory(path) {
            self = .directory(path)
        } else if !Self.exists(path) && (argument.hasSuffix("/") || !Self.hasExtension(path)) {
            self = .directory(path)
        } else {
            self = .file(path)
        }
    }

    /// A FIFO or a pipe named on the command line (`<(cmd)` is `/dev/fd/63`): read as a stream.
    var isPipe: Bool {
        guard case .file(let path) = self else { return false }
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO
    }

    /// A pipe the shell made (process substitution), named by its descriptor, not by a person.
    static func isAnonymousPipe(_ path: String) -> Bool {
        let components = path.split(separator: "/")
        guard components.count >= 3, components.last!.allSatisfy(\.isNumber) else { return false }
        return (components[0] == "dev" && components[1] == "fd" && components.count == 3)
            || (components[0] == "proc" && components.count == 4 && components[2] == "fd")
    }

    private static func hasExtension(_ path: String) -> Bool {
        let name = path.split(separator: "/").last ?? ""
        return name.dropFirst().contains(".")
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// What a look at the spec found: the files it names now (in a stable order) and the directories whose
    /// changes matter to it (to watch, and to stamp).
    struct Scan {
        var files: [String]
        var directories: [String]
        /// Directories that could not be listed (permission denied), to be reported rather than taken as empty.
        var unlistable: [String] = []
    }

    func scan() -> Scan {
        switch self {
        case .standardInput:
            return Scan(files: [], directories: [])
        case .file(let path), .directory(let path):
            // Followed as what is at the path, whatever it was waited for as (`kltop runs.v2` made as a
            // folder, `kltop logs/stdout` made as a file); while nothing is there, as what it looks like.
            if Self.isDirectory(path) { return RunLogFiles.scan(path) }
            if case .directory = self, !Self.exists(path) { return RunLogFiles.scan(path) }
            return Scan(files: [path], directories: [RunLogFiles.parent(of: path)])
        case .glob(let pattern):
            let files = RunLogFiles.expand(pattern).map(RunLogFiles.normalized)
            let directories = Set(
                files.map { RunLogFiles.parent(of: $0) } + [RunLogFiles.parent(of: pattern)])
            return Scan(files: files, directories: directories.sorted())
        }
    }

    /// The folder runs found by this spec are found under (``RunFolder``): the directory, or a glob's folder
    /// above its first wildcard; a path named as a file that turned out to be a folder. Nil for standard input.
    var root: String? {
        switch self {
        case .directory(let path): return path
        case .glob(let pattern):
            var folder = RunLogFiles.parent(of: pattern)
            while folder.contains(where: { "*?[".contains($0) }) { folder = RunLogFiles.parent(of: folder) }
            return folder
        case .file(let path): return path
        case .standardInput: return nil
        }
    }

    /// Whether a rescan can be skipped while the directories are unchanged: a glob with a wildcard above
    /// its last component can match in directories that are not stamped.
    var isStampable: Bool {
        switch self {
        case .directory: true
        case .glob(let pattern): !RunLogFiles.parent(of: pattern).contains(where: { "*?[".contains($0) })
        case .file, .standardInput: false
        }
    }
}

/// The identity and modification time of the directories a scan walked, so that the next scan can be
/// skipped when none of them changed (adding, removing or renaming an entry changes a directory's mtime).
struct DirectoryStamps: Equatable {
    private var stamps: [String: [Int]] = [:]

    init(_ directories: [String]) {
        for directory in directories { stamps[directory] = Self.stamp(directory) }
    }

    /// True when every directory is as it was. A directory modified within two seconds of `scanTime` (the
    /// wall-clock time of the scan) does not count as unchanged: on filesystems with coarse timestamps (one second, some network filesystems) a
    /// change in the same second as the scan leaves the mtime as it was.
    func areUnchanged(since scanTime: Double) -> Bool {
        for (directory, stamp) in stamps {
            guard Self.stamp(directory) == stamp else { return false }
            if stamp.count == 3, Double(stamp[1]) >= scanTime - 2 { return false }
        }
        return true
    }

    private static func stamp(_ directory: String) -> [Int] {
        var info = stat()
        guard stat(directory, &info) == 0 else { return [] }
        return [Int(info.st_ino), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }
}

/// Recognising run logs among the files of a directory.
enum RunLogFiles {
    /// Names of files in a directory that are taken for run logs, whatever their content: `.out` is where
    /// Slurm puts a job's console output.
    /// A rotation of a run log (`train.log.1`, `train.jsonl.2.gz`) or a compressed one (`run.csv.zst`) is
    /// one too.
    static func isRunLog(_ name: String) -> Bool {
        if name.hasPrefix(".") { return false }
        let name = LogRotation.baseName(name)
        if name.hasPrefix("events.out.tfevents.") { return true }
        // stable-baselines3's `json` output is JSON Lines under a .json name; other .json files are configs.
        if name == "trainer_state.json" || isDatabaseName(name) || name == "progress.json" { return true }
        let lower = name.lowercased()
        return [".jsonl", ".ndjson", ".csv", ".log", ".out", ".wandb", ".swanlab"].contains {
            lower.hasSuffix($0)
        }
            || isTorchtuneDiskLog(lower)
    }

    /// torchtune's `DiskLogger` writes `<output_dir>/logs/log_<unix time>.txt` (`torchtune/training/
    /// metric_logging.py`): the one `.txt` name taken, since other `.txt` files beside a run are notes and
    /// requirements.
    static func isTorchtuneDiskLog(_ lower: String) -> Bool {
        guard lower.hasPrefix("log_"), lower.hasSuffix(".txt") else { return false }
        let digits = lower.dropFirst(4).dropLast(4)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// A W&B run folder (`wandb/run-…/`, `wandb/offline-run-…/`) is read from its `run-<id>.wandb` alone:
    /// the other logs wandb keeps there (its `logs/debug*.log`, the console output it copies to
    /// `files/output.log`) say nothing the file does not, or nothing about training at all. So is a
    /// SwanLab run folder (`swanlog/run-…/`) from its `run-<id>.swanlab` (beside it, `debug/debug.log`).
    static func isTrackerRunFile(_ name: String) -> Bool {
        name.hasPrefix("run-") && (name.hasSuffix(".wandb") || name.hasSuffix(".swanlab"))
    }

    /// How deep a directory is walked: TensorBoard walks a logdir to any depth, and real ones nest runs a
    /// handful of folders down (`runs/ppo/seed1/version_0/...`); the entry budget bounds the walk's cost.
    static let maximumDepth = 12
    static let maximumEntries = 20_000

    /// Run logs under `directory` (to a few levels down, hidden folders skipped), sorted by path, and the
    /// directories walked, in one walk.
    ///
    /// A symbolic link is followed only to what the walk does not reach otherwise, so that nothing is read
    /// twice: W&B's `wandb/latest-run` (a link to the newest run folder) and its `wandb/debug.log` are left
    /// out, a link to a run kept elsewhere is followed. Links are looked at after everything else, so that
    /// a file is known by its own path, not by a link's that may be pointed elsewhere later.
    /// SQLite files, which may be stores: rlwatch's `metrics.db`, MLflow's `mlflow.db`, Trackio's
    /// `<project>.db` (any name). Told apart by their tables once opened.
    static func isDatabaseName(_ name: String) -> Bool {
        !name.hasPrefix(".") && name.lowercased().hasSuffix(".db")
    }

    /// An MLflow file store (``MLflowFileStoreReader/isStore(_:)``) is one source, listed among the files:
    /// its reader follows its folders, and nothing found in it is a run log of its own.
    static func scan(_ directory: String) -> PathSpec.Scan {
        if MLflowFileStoreReader.isStore(directory) {
            return PathSpec.Scan(files: [directory], directories: [])
        }
        var scan = PathSpec.Scan(files: [], directories: [directory])
        var walk = Walk()
        var stores: Set<String> = []
        walk.walk(directory, depth: 0) { path, name, isDirectory in
            if isDirectory {
                scan.directories.append(path)
                if MLflowFileStoreReader.isStore(path) { stores.insert(path) }
            } else if isRunLog(name) {
                scan.files.append(path)
            } else if name == "meta.yaml", let root = MLflowFileStoreReader.root(ofMetaFile: path) {
                stores.insert(root)  // a file store without its Default experiment, found from a run
            }
        }
        var filesFound: Set<Inode>?
        while !walk.links.isEmpty {
            let link = walk.links.removeFirst()
            var info = stat()
            guard stat(link.path, &info) == 0 else {
                // A link to nothing yet: a run log it names is followed, and read once it leads somewhere.
                if isRunLog(link.name) { scan.files.append(link.path) }
                continue
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                guard !walk.walked.contains(Inode(info)) else { continue }
                scan.directories.append(link.path)
                walk.walk(link.path, depth: link.depth) { path, name, isDirectory in
                    if isDirectory {
                        scan.directories.append(path)
                    } else if isRunLog(name) {
                        scan.files.append(path)
                    }
                }
            } else if isRunLog(link.name) {
                if filesFound == nil { filesFound = Set(scan.files.compactMap(Inode.init(path:))) }
                if filesFound!.insert(Inode(info)).inserted { scan.files.append(link.path) }
            }
        }
        scan.unlistable = walk.unlistable
        if !stores.isEmpty {
            func inStore(_ path: String) -> Bool { stores.contains { path.hasPrefix($0 + "/") } }
            scan.files.removeAll(where: inStore)
            scan.directories.removeAll { inStore($0) || stores.contains($0) }
            scan.files += stores
        }
        scan.files = withoutTrackerSideLogs(scan.files.sorted())
        return scan
    }

    /// `files` (sorted) without the other logs of W&B and SwanLab run folders (``isTrackerRunFile(_:)``).
    private static func withoutTrackerSideLogs(_ files: [String]) -> [String] {
        let runFolders = Set(files.filter { isTrackerRunFile(name(of: $0)) }.map { parent(of: $0) })
        guard !runFolders.isEmpty else { return files }
        return files.filter { file in
            if isTrackerRunFile(name(of: file)) { return true }
            var folder = parent(of: file)
            for _ in 0...maximumDepth {
                if runFolders.contains(folder) { return false }
                let up = parent(of: folder)
                if up == folder { break }
                folder = up
            }
            return true
        }
    }

    static func find(in directory: String) -> [String] { scan(directory).files }

    /// A file or directory, whatever path leads to it.
    private struct Inode: Hashable {
        var device: UInt64
        var inode: UInt64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            self.init(info)
        }
    }

    /// One walk of a directory tree: what it has walked, and the symbolic links it has left for later.
    private struct Walk {
        var budget = maximumEntries
        var unlistable: [String] = []
        /// The directories walked, by identity: none is walked twice, whatever leads to it.
        var walked: Set<Inode> = []
        var links: [(path: String, name: String, depth: Int)] = []

        mutating func walk(_ directory: String, depth: Int, _ visit: (String, String, Bool) -> Void) {
            guard depth <= maximumDepth else { return }
            guard let handle = opendir(directory) else {
                if errno == EACCES || errno == EPERM { unlistable.append(directory) }
                return
            }
            defer { closedir(handle) }
            var info = stat()
            if fstat(dirfd(handle), &info) == 0 {
                guard walked.insert(Inode(info)).inserted else { return }
            }
            var children: [String] = []
            while budget > 0, let entry = readdir(handle) {
                budget -= 1
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." || name.hasPrefix(".") { continue }
                let path = join(directory, name)
                // The entry's type saves a stat per file; filesystems that do not fill it in are asked.
                var type = entry.pointee.d_type
                if type == UInt8(DT_UNKNOWN), lstat(path, &info) == 0 {
                    switch info.st_mode & S_IFMT {
                    case S_IFLNK: type = UInt8(DT_LNK)
                    case S_IFDIR: type = UInt8(DT_DIR)
                    default: type = UInt8(DT_REG)
                    }
                }
                if type == UInt8(DT_LNK) {
                    links.append((path, name, depth + 1))
                    continue
                }
                let isDirectory = type == UInt8(DT_DIR)
                visit(path, name, isDirectory)
                if isDirectory { children.append(path) }
            }
            for child in children.sorted() { walk(child, depth: depth + 1, visit) }
        }
    }

    static func expand(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let path = result.gl_pathv[index], case let string = String(cString: path),
                !PathSpec.isDirectory(string)
            {
                paths.append(string)
            }
        }
        return paths.sorted()
    }

    /// `path` spelled one way only: no `.` components, no repeated or trailing slashes (`./a//b/` → `a/b`).
    /// `..` is kept: resolving it lexically would be wrong across symbolic links.
    static func normalized(_ path: String) -> String {
        let isAbsolute = path.hasPrefix("/")
        let components = path.split(separator: "/").filter { $0 != "." }
        let joined = components.joined(separator: "/")
        if isAbsolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// The path of `name` in `directory`, spelled as ``normalized(_:)`` spells it, so that
    /// `join(parent(of: p), last component of p) == p` for a normalized `p`.
    static func join(_ directory: String, _ name: String) -> String {
        switch directory {
        case ".": name
        case "/": "/" + name
        default: directory + "/" + name
        }
    }

    /// `path` from the root, for naming a run after its folder when it was given as `progress.csv`.
    static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), path != "-", let directory = getcwd(nil, 0) else { return path }
        defer { free(directory) }
        return normalized(join(String(cString: directory), path))
    }

    /// The last component of `path`.
    static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
