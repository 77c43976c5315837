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

    init(argument: String) {
        if argument == "-" {
            self = .standardInput
        } else if argument.contains(where: { "*?[".contains($0) }) && !Self.exists(argument) {
            self = .glob(argument)
        } else if Self.isDirectory(argument) {
            self = .directory(argument)
        } else {
            self = .file(argument)
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The files the spec names now, in a stable order.
    func currentFiles() -> [String] {
        switch self {
        case .standardInput: return []
        case .file(let path): return [path]
        case .directory(let path): return RunLogFiles.find(in: path)
        case .glob(let pattern): return RunLogFiles.expand(pattern)
        }
    }

    /// Directories whose changes matter to this spec.
    func directoriesToWatch(files: [String]) -> [String] {
        var directories = Set(files.map { RunLogFiles.parent(of: $0) })
        switch self {
        case .directory(let path): directories.formUnion(RunLogFiles.subdirectories(of: path))
        case .glob(let pattern): directories.insert(RunLogFiles.parent(of: pattern))
        case .file(let path): directories.insert(RunLogFiles.parent(of: path))
        case .standardInput: break
        }
        return directories.sorted()
    }
}

/// Recognising run logs among the files of a directory.
enum RunLogFiles {
    /// Names that are run logs whatever their content.
    static func isRunLog(_ name: String) -> Bool {
        if name.hasPrefix(".") { return false }
        if name.hasPrefix("events.out.tfevents.") { return true }
        if name == "trainer_state.json" || name == "metrics.db" { return true }
        let lower = name.lowercased()
        return [".jsonl", ".ndjson", ".csv", ".log"].contains { lower.hasSuffix($0) }
    }

    static let maximumDepth = 4
    static let maximumEntries = 20_000

    /// Run logs under `directory` (to a few levels down, hidden folders skipped), sorted by path.
    static func find(in directory: String) -> [String] {
        var found: [String] = []
        var budget = maximumEntries
        walk(directory, depth: 0, budget: &budget) { path, name, isDirectory in
            if !isDirectory && isRunLog(name) { found.append(path) }
        }
        return found.sorted()
    }

    static func subdirectories(of directory: String) -> [String] {
        var found = [directory]
        var budget = maximumEntries
        walk(directory, depth: 0, budget: &budget) { path, _, isDirectory in
            if isDirectory { found.append(path) }
        }
        return found
    }

    private static func walk(
        _ directory: String, depth: Int, budget: inout Int, _ visit: (String, String, Bool) -> Void
    ) {
        guard depth <= maximumDepth, let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        var children: [String] = []
        while budget > 0, let entry = readdir(handle) {
            budget -= 1
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." || name.hasPrefix(".") { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            let isDirectory = PathSpec.isDirectory(path)
            visit(path, name, isDirectory)
            if isDirectory { children.append(path) }
        }
        for child in children.sorted() { walk(child, depth: depth + 1, budget: &budget, visit) }
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

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
