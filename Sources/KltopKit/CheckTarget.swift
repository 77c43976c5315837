import RunLogs

/// What one PATH given to `check` turns out to be, once its format is known.
enum CheckTarget {
    /// A byte-stream log (or a single event file).
    case file(path: String, format: LogFormat)
    /// A TensorBoard run: a directory's event files, read in name order as one run.
    case eventFiles(directory: String, files: [String])
    /// rlwatch's SQLite store: each run in it is checked.
    case store(path: String)
    /// Could not be checked; the message says why.
    case failed(path: String, message: String)

    /// The path a run is named after (see ``RunNaming``): a run directory is named after the folder.
    var namingPath: String {
        switch self {
        case .file(let path, _), .store(let path), .failed(let path, _): path
        case .eventFiles(let directory, let files): files.first ?? directory
        }
    }

    /// Finds what `path` is: a directory of TensorBoard runs (each a target), or a file whose format is
    /// `forced` (`--input-format`) or recognised from its first 4 KiB. An empty file of unknown kind is read
    /// as JSON Lines, kltop's first format.
    static func resolve(_ path: String, forced: LogFormat?) -> [CheckTarget] {
        if LogFile.isDirectory(path: path) {
            if let forced, forced != .tensorboard {
                return [
                    .failed(
                        path: path,
                        message: "\(path): is a directory; only TensorBoard runs are read from one")
                ]
            }
            do {
                let runs = try TensorBoardRunDirectory.runs(under: path)
                if runs.isEmpty {
                    return [
                        .failed(
                            path: path,
                            message: "\(path): is a directory with no TensorBoard event files in it")
                    ]
                }
                return runs.map { .eventFiles(directory: $0.directory, files: $0.eventFiles) }
            } catch {
                return [.failed(path: path, message: error.description)]
            }
        }
        let firstBytes: [UInt8]
        do {
            firstBytes = try LogFile.firstBytes(path: path)
        } catch {
            return [.failed(path: path, message: error.description)]
        }
        let format =
            forced ?? LogFormat.detect(path: path, firstBytes: firstBytes)
            ?? (firstBytes.isEmpty ? .jsonl : nil)
        switch format {
        case .rlwatchStore: return [.store(path: path)]
        case .some(let format): return [.file(path: path, format: format)]
        case nil:
            return [
                .failed(
                    path: path,
                    message: "\(path): not a run log kltop recognises; name its format with --input-format "
                        + LogFormat.argumentNames.joined(separator: "|"))
            ]
        }
    }
}
