import LogFollowing
import RunLogs

/// What reading a run's log went like, worded for the user: shared by `check` and `export`, so that both
/// say the same about bad lines, steps that had to be replaced, and runs that gave no KL sample.
public enum ReadReport {
    /// Notes on the records a run's log held that kltop could not use as they were.
    static func notes(run name: String, statistics: ReadStatistics) -> [String] {
        let shownName = TerminalText.inert(name)
        var notes: [String] = []
        if statistics.badLines > 0 {
            let examples = statistics.firstBadLines.map { "\($0.location): \($0.reason)" }
            notes.append(
                "kltop: \(shownName): skipped \(badRecords(statistics)) ("
                    + TerminalText.inert(examples.joined(separator: "; "))
                    + (statistics.badLines > examples.count ? "; …" : "") + ")")
        }
        if statistics.heldAtEnd > 0 {
            notes.append("kltop: \(shownName): \(heldAtEndNote(statistics))")
        }
        if let first = statistics.firstUnusableStep {
            let count = statistics.unusableSteps
            notes.append(
                "kltop: \(shownName): the step of \(count) record\(count == 1 ? "" : "s") is not a whole number ("
                    + TerminalText.inert("\(first.location): \(first.reason)")
                    + (count > 1 ? "; …" : "")
                    + "); \(count == 1 ? "its ordinal was" : "their ordinals were") used as the step")
        }
        if statistics.repeatedSteps > 0 {
            let count = statistics.repeatedSteps
            notes.append(
                "kltop: \(shownName): skipped \(count) record\(count == 1 ? "" : "s") repeating steps already read "
                    + "from the log's previous rotation")
        }
        return notes
    }

    /// What `check` and `export` say of a run's sources (`run` gives a run's name and path by number): which
    /// log its series is read from, a log that disagrees with it, a log without KL. Nil for other events.
    static func sourceNote(
        _ event: FollowEvent, metricKey: String? = nil, run: (Int) -> (name: String, path: String)
    ) -> String? {
        switch event {
        case .sourcesListed(let number, let paths, let primary):
            return sources(run: run(number).name, folder: run(number).path, paths: paths, primary: primary)
        case .sourceDisagrees(let number, let path, let note):
            return disagreement(run: run(number).name, folder: run(number).path, path: path, note: note)
        case .logWithoutKL(let path, let statistics):
            return withoutKL(path: path, metricKey: metricKey, statistics: statistics)
        default:
            return nil
        }
    }

    /// Which of a run's logs its series is read from, and the others.
    static func sources(run name: String, folder: String, paths: [String], primary: Int) -> String {
        let others = paths.indices.filter { $0 != primary }.map {
            TerminalText.inert(shortPath(paths[$0], in: folder))
        }
        return "kltop: \(TerminalText.inert(name)): read from "
            + TerminalText.inert(shortPath(paths[primary], in: folder))
            + "; \(others.count) other source\(others.count == 1 ? "" : "s") not used: "
            + others.joined(separator: ", ")
    }

    /// One of a run's other logs holds other steps or values than its series: noted, not merged.
    static func disagreement(run name: String, folder: String, path: String, note: String) -> String {
        "kltop: \(TerminalText.inert(name)): \(TerminalText.inert(shortPath(path, in: folder))) disagrees with the "
            + "run's series: \(TerminalText.inert(note))"
    }

    /// A log's path as a person tells a run's logs apart: from the run's folder (`progress.csv`,
    /// `runs/Dec07_…/events…`), or its last two components when it is not in it.
    public static func shortPath(_ path: String, in folder: String) -> String {
        if path.hasPrefix(folder + "/") { return String(path.dropFirst(folder.count + 1)) }
        return path.split(separator: "/").suffix(2).joined(separator: "/")
    }

    /// A log found in a folder that holds no KL (or not the `--metric` key): not a run, and what it holds
    /// instead.
    static func withoutKL(path: String, metricKey: String? = nil, statistics: ReadStatistics) -> String {
        let shown = TerminalText.inert(path)
        if statistics.records == 0 && statistics.badLines == 0 {
            return "kltop: \(shown): \(statistics.heldAtEnd > 0 ? firstRecordHeldNote : strayFileNote)"
        }
        guard statistics.records > 0 else {
            return "kltop: \(shown): \(badRecords(statistics)) and no records; not a run"
        }
        let records = "\(statistics.records) record\(statistics.records == 1 ? "" : "s")"
        if let metricKey {
            return "kltop: \(shown): key \"\(TerminalText.inert(metricKey))\" not in its \(records)"
                + "\(describe(keysSeen: statistics.keysSeen)); not a run"
        }
        let why = whyNoKL(keysSeen: statistics.keysSeen).map { "; " + $0 } ?? ""
        return
            "kltop: \(shown): no KL in its \(records)\(describe(keysSeen: statistics.keysSeen))\(why); not a run"
    }

    /// Why a log holds no KL key, where its keys show it: a TRL GRPO log with `beta` 0, or a log that has
    /// only KL between trainer and inference engine or the KL coefficient. (Every reference or update-size
    /// key, however spelled, is chosen by itself: ``MetricKeys/automaticRank(_:)``.) Nil when the keys say
    /// nothing. Safe to draw: the keys in it are made inert. The dashboard says the same on a run's panel.
    public static func whyNoKL(keysSeen: [String]) -> String? {
        var classified: [KLKeyClass: [String]] = [:]
        for key in keysSeen {
            if let kind = KLKeyClass.of(key) { classified[kind, default: []].append(key) }
        }
        let bare = Set(keysSeen.map(withoutLoggerPrefix))
        // `completion_length` before TRL 0.16, `completions/mean_length` since.
        if (bare.contains("completions/mean_length") || bare.contains("completion_length"))
            && (bare.contains("frac_reward_zero_std") || bare.contains("reward_std"))
        {
            return trlGRPOWithoutKL
        }
        var only: [String] = []
        if let keys = classified[.mismatch] {
            only.append("KL between trainer and inference engine (\(quoted(keys)))")
        }
        if let keys = classified[.coefficient] { only.append("the KL coefficient (\(quoted(keys)))") }
        guard !only.isEmpty else { return nil }
        return "it logs only " + only.joined(separator: " and ")
            + ", not KL to the reference model: turn the reference KL on (a KL loss or KL penalty) to log it"
    }

    /// Why a run whose series is update-size KL has no KL to the reference model, where its key shows it; nil
    /// otherwise. veRL logs `actor/ppo_kl` on every update but reference KL only with a KL loss
    /// (`actor/kl_loss`) or a KL penalty in the reward (`actor/reward_kl_penalty`), both off by default
    /// (`verl/trainer/config/ppo_trainer.yaml`).
    public static func whyOnlyUpdateSizeKL(metricKey: String) -> String? {
        guard KLKeyClass.normalised(metricKey)?.base == "actor/ppo_kl" else { return nil }
        return veRLWithoutReferenceKL
    }

    static let veRLWithoutReferenceKL =
        "veRL logs KL to the reference model only with actor_rollout_ref.actor.use_kl_loss=True "
        + "or algorithm.use_kl_in_reward=True"

    /// TRL's GRPOTrainer logs `kl` only when `beta` (the KL coefficient) is not 0, and 0 is its default
    /// (`trl/trainer/grpo_trainer.py`, `grpo_config.py`).
    static let trlGRPOWithoutKL =
        "TRL's GRPO logs no kl while beta is 0 (its default): set beta > 0 to log it"

    private static func quoted(_ keys: [String]) -> String {
        keys.prefix(3).map { "\"\(TerminalText.inert($0))\"" }.joined(separator: ", ")
            + (keys.count > 3 ? ", …" : "")
    }

    /// A key without the `train/` or `eval/` a transformers callback puts before it.
    private static func withoutLoggerPrefix(_ key: String) -> String {
        for prefix in ["train/", "eval/"] where key.hasPrefix(prefix) {
            return String(key.dropFirst(prefix.count))
        }
        return key
    }

    /// The log ends inside its last record: a live log (wandb-core writes a 32 KiB block at a time) whose
    /// writer has not written the rest yet. Not a bad record, and no reason to fail a check.
    static func heldAtEndNote(_ statistics: ReadStatistics) -> String {
        "its last record is incomplete (\(statistics.heldAtEnd) byte\(statistics.heldAtEnd == 1 ? "" : "s")): "
            + "still being written? Left out; --follow reads it once the rest is written"
    }

    /// A log with no whole record yet, whose first is still being written: a run just started.
    static let firstRecordHeldNote = "no whole record yet (its first is still being written?); left out"

    /// "3 bad lines", or "1 bad record" for event files, which count records at byte offsets.
    static func badRecords(_ statistics: ReadStatistics) -> String {
        let noun = statistics.firstBadLines.contains { $0.byteOffset != nil } ? "record" : "line"
        return "\(statistics.badLines) bad \(noun)\(statistics.badLines == 1 ? "" : "s")"
    }

    /// A run that gave no KL sample: why, and whether it is only a stray file (see ``isStrayFile``).
    struct NoSamples {
        var reason: String
        var isStrayFile: Bool
        /// A stray file's first record is still being written: a run just started, not a stray file.
        var firstRecordIsHeld = false

        /// The line to say: the reason, or that a stray file was left out.
        func note(run name: String) -> String {
            let stray = firstRecordIsHeld ? ReadReport.firstRecordHeldNote : ReadReport.strayFileNote
            return "kltop: \(TerminalText.inert(name)): \(isStrayFile ? stray : reason)"
        }
    }

    /// What to say of a run that gave no KL sample; nil when it gave some. `namedPaths` are the paths named
    /// on the command line (normalized as the runs' are): a file named there is never a stray one.
    static func noSamples(
        path: String, metricKey: String?, statistics: ReadStatistics, namedPaths: Set<String>
    ) -> NoSamples? {
        guard let reason = whyNoSamples(metricKey: metricKey, statistics: statistics) else { return nil }
        return NoSamples(
            reason: reason,
            isStrayFile: isStrayFile(path: path, namedPaths: namedPaths, statistics: statistics),
            firstRecordIsHeld: statistics.heldAtEnd > 0)
    }

    /// Why a run gave no KL sample, worded for the user; nil when it gave some.
    private static func whyNoSamples(metricKey: String?, statistics: ReadStatistics) -> String? {
        guard metricKey == nil || statistics.samples == 0 else { return nil }
        // A store's run (MLflow) without the key has no record of it, but its keys are listed.
        let records =
            statistics.records == 0 && !statistics.keysSeen.isEmpty
            ? "its metrics" : "\(statistics.records) record\(statistics.records == 1 ? "" : "s")"
        if statistics.records == 0 && statistics.keysSeen.isEmpty {
            let bad = statistics.badLines
            return "no KL samples: no records in it"
                + (bad > 0 ? " (\(bad) bad line\(bad == 1 ? "" : "s"), listed above)" : "")
                + (statistics.heldAtEnd > 0 ? " (its first is still being written?)" : "")
        }
        let keysSeen = describe(keysSeen: statistics.keysSeen)
        guard let metric = metricKey.map(TerminalText.inert) else {
            if let why = whyNoKL(keysSeen: statistics.keysSeen) {
                return "no KL key found in \(records)\(keysSeen); \(why)"
            }
            return "no KL key found in \(records)\(keysSeen); looked for "
                + MetricKeys.klAliases.joined(separator: ", ")
                + " (also after train/, eval/ or data., and with /mean, /avg or /max). Name the key with --metric KEY."
        }
        if statistics.missingValues > 0 {
            return "no KL samples: \"\(metric)\" held no number in any of its \(statistics.missingValues) "
                + "records (null, or something that is not a number)"
        }
        return "no KL samples: key \"\(metric)\" not found in \(records)\(keysSeen)"
    }

    /// " (keys seen: a, b, …)", or where to look when the reader could not list them.
    static func describe(keysSeen: [String]) -> String {
        guard !keysSeen.isEmpty else { return " (look at a record of the log for the key that holds KL)" }
        let shown = keysSeen.prefix(24).map { TerminalText.inert($0) }.joined(separator: ", ")
        return " (keys seen: \(shown)\(keysSeen.count > 24 ? ", …" : ""))"
    }

    /// A file found in a directory (not named on the command line) that holds no record at all and no bad
    /// line is no run log (a `download.log` beside a run, a Slurm job's `.out` without training output):
    /// it is mentioned, not counted as a run that could not be checked. One whose first record is still
    /// being written is said so, and not counted either: a record not written yet fails no check.
    static let strayFileNote = "not a run log (no records in it); left out"

    private static func isStrayFile(path: String, namedPaths: Set<String>, statistics: ReadStatistics) -> Bool
    {
        statistics.records == 0 && statistics.badLines == 0 && statistics.keysSeen.isEmpty
            && !namedPaths.contains(path)
    }
}
