/// Names runs after their log files, as a person would refer to them.
public enum RunNaming {
    /// File names that say nothing about the run: the run is named after the folder holding them.
    public static let genericStems: Set<String> = [
        "progress", "metrics", "log", "logs", "train", "training", "trainer_state", "events", "output",
        "stdout", "stderr", "run", "history", "scalars",
    ]

    /// The run name for one path: the file name without its extension, or the folder's name when the file
    /// name is generic (`progress.csv`, `metrics.jsonl`) or a TensorBoard event file.
    public static func name(forPath path: String) -> String {
        if path == "-" { return "stdin" }
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let file = components.last else { return path }
        let stem = Self.stem(file)
        let folder = components.count >= 2 ? components[components.count - 2] : nil
        if genericStems.contains(stem.lowercased()) || file.hasPrefix("events.out.tfevents") {
            if let folder, folder != "." && folder != ".." { return folder }
        }
        return stem.isEmpty ? file : stem
    }

    /// Names for several paths, made unique: on a collision the folder is prefixed, then a counter added.
    public static func uniqueNames(forPaths paths: [String]) -> [String] {
        var names = paths.map(name(forPath:))
        let counts = Dictionary(names.map { ($0, 1) }, uniquingKeysWith: +)
        for index in names.indices where counts[names[index], default: 0] > 1 {
            let components = paths[index].split(separator: "/").map(String.init)
            if components.count >= 2 {
                let folder =
                    components.count >= 3 && name(forPath: paths[index]) == components[components.count - 2]
                    ? components[components.count - 3] : components[components.count - 2]
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

    static func stem(_ file: String) -> String {
        var stem = Substring(file)
        for compression in [".gz", ".zst"] where stem.hasSuffix(compression) {
            stem = stem.dropLast(compression.count)
        }
        if let dot = stem.lastIndex(of: "."), dot != stem.startIndex { stem = stem[..<dot] }
        return String(stem)
    }
}
