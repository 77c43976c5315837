/// Names runs after their log files, as a person would refer to them.
public enum RunNaming {
    /// File names that say nothing about the run: the run is named after the folder holding them.
    public static let genericStems: Set<String> = [
        "progress", "metrics", "log", "logs", "train", "training", "trainer_state", "events", "output",
        "stdout", "stderr", "run", "history", "scalars",
    ]

    /// The run name for one path: the file name without its extension, or the folder's name when the file
    /// name is generic (`progress.csv`, `metrics.jsonl`) or a TensorBoard event file. A transformers checkpoint
    /// folder (`checkpoint-60`) says nothing either: the run is named after the folder holding it (the
    /// trainer's output folder), so that every checkpoint of a run bears the run's name.
    public static func name(forPath path: String) -> String {
        if path == "-" { return "stdin" }
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let file = components.last else { return path }
        let index = namingIndex(components)
        if index < components.count - 1 { return components[index] }
        let stem = Self.stem(file)
        return stem.isEmpty ? file : stem
    }

    /// The folder named before a run's name to tell it from another run of the same name: the folder above
    /// the one the run is named after (above the file, when it is named after the file). Nil when the path
    /// has none.
    public static func disambiguatingFolder(forPath path: String) -> String? {
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !components.isEmpty else { return nil }
        let index = namingIndex(components)
        return index >= 1 ? components[index - 1] : nil
    }

    /// Which component of the path names the run: the file (the last), or a folder above it.
    private static func namingIndex(_ components: [String]) -> Int {
        let fileIndex = components.count - 1
        let file = components[fileIndex]
        guard isGeneric(fileName: file) else {
            return fileIndex
        }
        var index = fileIndex - 1
        guard index >= 0, isNamingFolder(components[index]) else { return fileIndex }
        if TrainerCheckpoints.step(ofFolder: components[index]) != nil, index >= 1,
            isNamingFolder(components[index - 1])
        {
            index -= 1
        }
        return index
    }

    /// A log file name that says nothing about its run (`progress.csv`, `trainer_state.json`, event files):
    /// the run is its folder's.
    public static func isGeneric(fileName file: String) -> Bool {
        genericStems.contains(stem(file).lowercased()) || file.hasPrefix("events.out.tfevents")
    }

    private static func isNamingFolder(_ name: String) -> Bool { name != "." && name != ".." }

    /// Names for several paths, made unique: on a collision the folder is prefixed, then a counter added.
    public static func uniqueNames(forPaths paths: [String]) -> [String] {
        var names = paths.map(name(forPath:))
        let counts = Dictionary(names.map { ($0, 1) }, uniquingKeysWith: +)
        for index in names.indices where counts[names[index], default: 0] > 1 {
            if let folder = disambiguatingFolder(forPath: paths[index]) {
                names[index] = folder + "/" + names[index]
            }
        }
        var seen: [String: Int] = [:]
        for index in names.indices {
            let base = names[index]
            let occurrence = seen[base, default: 0] + 1
            seen[base] = occurrence
            if occurrence > 1 { names[index] = "\(base)~\(occurrence)" }
        }
        return names
    }

    /// The file name without its extension, its compression suffix, or its rotation's (`train.log.2.gz`
    /// is `train`: a rotation bears its log's name).
    public static func stem(_ file: String) -> String {
        var stem = Substring(LogRotation.baseName(file))
        if let dot = stem.lastIndex(of: "."), dot != stem.startIndex { stem = stem[..<dot] }
        return String(stem)
    }
}
