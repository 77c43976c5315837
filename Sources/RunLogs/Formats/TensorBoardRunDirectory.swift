#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A run as TensorBoard sees one: a directory that directly holds event files, read in name order (the name
/// starts with the creation time, so name order is writing order).
public struct TensorBoardRunDirectory: Sendable, Equatable {
    public var directory: String
    /// Full paths, in name order.
    public var eventFiles: [String]

    /// Whether a file name is an event file's (`events.out.tfevents.<time>.<host>[...]`).
    public static func isEventFileName(_ name: String) -> Bool {
        name.hasPrefix("events.out.tfevents.")
    }

    /// Every run under `root` (itself included), as TensorBoard's `--logdir` finds them, sorted by directory;
    /// at most `maxDepth` levels down, hidden directories skipped.
    public static func runs(under root: String, maxDepth: Int = 8) throws(LogFileError)
        -> [TensorBoardRunDirectory]
    {
        var runs: [TensorBoardRunDirectory] = []
        var problem: LogFileError?
        visit(root, depth: 0, maxDepth: maxDepth, &runs, &problem)
        if let problem, runs.isEmpty { throw problem }
        return runs.sorted { $0.directory < $1.directory }
    }

    private static func visit(
        _ directory: String, depth: Int, maxDepth: Int, _ runs: inout [TensorBoardRunDirectory],
        _ problem: inout LogFileError?
    ) {
        guard let handle = opendir(directory) else {
            if problem == nil { problem = .from(errno: errno, path: directory) }
            return
        }
        var files: [String] = []
        var subdirectories: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                subdirectories.append(path)
            } else if isEventFileName(name) {
                files.append(path)
            }
        }
        closedir(handle)
        if !files.isEmpty {
            runs.append(TensorBoardRunDirectory(directory: directory, eventFiles: files.sorted()))
        }
        guard depth < maxDepth else { return }
        for subdirectory in subdirectories.sorted() {
            visit(subdirectory, depth: depth + 1, maxDepth: maxDepth, &runs, &problem)
        }
    }
}
