import RunLogs

/// Which training run a log found in a folder belongs to: the nearest folder above it that is not a
/// generic container — TensorBoard's rule ("a folder is a run"), with the folders frameworks put between a
/// run and its logs skipped.
///
/// A TRL output folder `outputs/grpo_seed0/` holds `runs/Dec07_10-00-00_node1/events…`,
/// `checkpoint-40/trainer_state.json` and a `stdout.log`: all three are logs of the run `grpo_seed0`.
enum RunFolder {
    /// Folder names that hold logs but never name a run.
    static let genericNames: Set<String> = [
        "runs", "run", "logs", "log", "tb", "tb_logs", "tensorboard", "tensorboard_logs", "lightning_logs",
        "wandb", "swanlog", "csv", "events", "metrics", "files", "checkpoints", "summaries", "train", "eval",
        "validation", "outputs", "output", "results", "mlruns", ".", "..",
    ]

    /// Whether a folder of this name is a container, not a run: one of ``genericNames``, `version_N`
    /// (Lightning), `checkpoint-N` (transformers), `<ALGO>_N` (stable-baselines3's `PPO_1`), or a
    /// TensorBoard/transformers `<Mon><DD>_<HH-MM-SS>_<host>` folder.
    static func isGeneric(_ name: String) -> Bool {
        if genericNames.contains(name.lowercased()) { return true }
        if TrainerCheckpoints.step(ofFolder: name) != nil { return true }
        if let number = name.split(separator: "_").last, name.hasPrefix("version_"),
            number.allSatisfy(\.isNumber)
        {
            return true
        }
        return isAlgorithmCounter(name) || isTensorBoardDateFolder(name)
    }

    /// `PPO_1`, `A2C_3`, `SAC_12`: what stable-baselines3 names its `tensorboard_log` subfolders.
    static func isAlgorithmCounter(_ name: String) -> Bool {
        guard let underscore = name.lastIndex(of: "_") else { return false }
        let algorithm = name[..<underscore]
        let number = name[name.index(after: underscore)...]
        return !algorithm.isEmpty && algorithm.count <= 8 && !number.isEmpty && number.allSatisfy(\.isNumber)
            && algorithm.allSatisfy { $0.isUppercase || $0.isNumber } && algorithm.first!.isUppercase
    }

    /// `Dec07_10-00-00_node1`: the folder transformers' TensorBoard callback makes under `runs/`.
    static func isTensorBoardDateFolder(_ name: String) -> Bool {
        let characters = Array(name)
        guard characters.count > 15, characters[14] == "_" else { return false }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let digits = [3, 4, 6, 7, 9, 10, 12, 13]
        return months.contains(String(characters[0..<3])) && digits.allSatisfy { characters[$0].isNumber }
            && characters[5] == "_" && characters[8] == "-" && characters[11] == "-"
    }

    /// The run `path` belongs to, found under `root` (the folder kltop was given): the path that stands for
    /// the run — the run folder, or the log itself when it is a run of its own. A log is a run of its own
    /// when its name says which run it is (`ppo_lr3e-4.jsonl`; veRL's `<project>/<experiment>.jsonl`), or
    /// when it lies directly in `root` with such a name; console output (`.log`, `.out`) deeper down is
    /// the output of its folder's run, whatever its name. When every folder up to `root` is generic, `root`
    /// is the run folder (`kltop runs/` on a folder of event files is one run, named after `runs`).
    static func key(ofLog path: String, root: String) -> String {
        let parent = RunLogFiles.parent(of: path)
        let file = RunLogFiles.name(of: path)
        if !RunNaming.isGeneric(fileName: file) && (parent == root || !isConsoleOutput(file)) { return path }
        var folder = parent
        while folder != root && folder.count > root.count {
            if !isGeneric(RunLogFiles.name(of: folder)) { return folder }
            folder = RunLogFiles.parent(of: folder)
        }
        return root
    }

    /// A console log, by its name (`train.log`, `slurm-123.out`, rotations and compression aside).
    static func isConsoleOutput(_ file: String) -> Bool {
        let name = LogRotation.baseName(file).lowercased()
        return [".log", ".out", ".txt"].contains { name.hasSuffix($0) }
    }

}
