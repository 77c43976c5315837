import RunLogs

/// Several files that are one run, written one after another: the event files of a TensorBoard run folder,
/// the `trainer_state.json` a transformers Trainer writes into each checkpoint folder, a log and its
/// rotations (`train.log.2.gz`, `train.log.1`, `train.log`).
///
/// Found from paths alone (``member(path:)``), when following a directory or a glob (a file named on the
/// command line is a run of its own). A group has two rules:
/// - order: ``Rank``, which member comes later;
/// - ``Succession``: what a later member means for the one being read.
///
/// Either way only members ranked after the one being read are taken: one that turns up ranked before it
/// is older than what is being read, and ignored (TensorBoard does the same with an event file that
/// appears out of order).
struct RunGroup: Hashable {
    enum Kind: Hashable {
        /// A folder that directly holds `events.out.tfevents.*` files, as TensorBoard's `--logdir` sees runs.
        case tensorBoardRun
        /// The `checkpoint-N/trainer_state.json` files of a trainer's output folder, and the folder's own
        /// `trainer_state.json` (written by `save_state()` when training ends).
        case trainerCheckpoints
        /// A run log and its rotations (``LogRotation``): read oldest first, then the live log is followed.
        case rotatedLog
    }

    /// How a later member takes over from the one being read.
    enum Succession {
        /// The writer closed its file and opened a new one; the stream goes on in it. The current file is
        /// read to its end, the reader finishes that stream (a record cut short is counted), and the next
        /// file is read from its first byte: every member is read, in order.
        case continues
        /// Each member holds everything the earlier ones held, and more (the whole log history). Reading
        /// moves to a later member as soon as it appears, and the reader is restarted on it
        /// (``SampleReader/restart()``): what it already read is recognised and skipped, so only the latest
        /// member needs reading.
        case supersedes
    }

    /// A member's place in its group: by number, then by name.
    struct Rank: Comparable {
        var number: Int
        var name: String

        static func < (a: Rank, b: Rank) -> Bool { (a.number, a.name) < (b.number, b.name) }
    }

    var kind: Kind
    /// The path the run is known by: the TensorBoard run folder; the trainer's output folder; the live
    /// log of a rotated one.
    var folder: String

    var succession: Succession {
        switch kind {
        case .tensorBoardRun, .rotatedLog: .continues
        case .trainerCheckpoints: .supersedes
        }
    }

    /// The group `path` belongs to and its rank there, or nil for a file that is a run of its own.
    ///
    /// Event files rank by name: it starts with the creation time (`events.out.tfevents.<%010d seconds>.`),
    /// so name order is writing order. Checkpoints rank by their step number (`checkpoint-100` after
    /// `checkpoint-20`), the output folder's own `trainer_state.json` after every checkpoint. Rotations rank
    /// by age, oldest first (`.3` before `.2`, dated ones by date), the live log after them; any run log may
    /// be one, so each is a member of its own rotation group (alone in it while it has no rotations).
    static func member(path: String) -> (group: RunGroup, rank: Rank)? {
        let name = RunLogFiles.name(of: path)
        let folder = RunLogFiles.parent(of: path)
        if TensorBoardRunDirectory.isEventFileName(name) {
            return (RunGroup(kind: .tensorBoardRun, folder: folder), Rank(number: 0, name: name))
        }
        if name != TrainerCheckpoints.stateFileName && RunLogFiles.isRunLog(name) {
            let rotation = LogRotation.parse(name)
            let live = RunLogFiles.join(folder, rotation?.live ?? name)
            let rank: Rank =
                switch rotation?.age {
                case nil: Rank(number: 0, name: "")
                case .numbered(let number)?: Rank(number: -number, name: "")
                case .dated(let date)?: Rank(number: Int.min, name: date)
                }
            return (RunGroup(kind: .rotatedLog, folder: live), rank)
        }
        guard name == TrainerCheckpoints.stateFileName else { return nil }
        let folderName = folder.split(separator: "/").last.map(String.init) ?? folder
        if let step = TrainerCheckpoints.step(ofFolder: folderName) {
            let output = RunLogFiles.parent(of: folder)
            return (RunGroup(kind: .trainerCheckpoints, folder: output), Rank(number: step, name: ""))
        }
        return (RunGroup(kind: .trainerCheckpoints, folder: folder), Rank(number: .max, name: ""))
    }

    /// `paths` reordered so that the members of each group come in rank order, at the place where the
    /// group's first member was; other paths keep their places.
    static func inRankOrder(_ paths: [String]) -> [String] {
        var membersByGroup: [RunGroup: [(rank: Rank, path: String)]] = [:]
        var slots: [(path: String, group: RunGroup?)] = []
        for path in paths {
            guard let (group, rank) = member(path: path) else {
                slots.append((path, nil))
                continue
            }
            if membersByGroup[group] == nil { slots.append((path, group)) }
            membersByGroup[group, default: []].append((rank, path))
        }
        return slots.flatMap { slot -> [String] in
            guard let group = slot.group else { return [slot.path] }
            return membersByGroup[group]!.sorted { $0.rank < $1.rank }.map(\.path)
        }
    }
}
