import RunLogs

#if canImport(Glibc)
    import Glibc
#endif

/// Follows every PATH of the command line — files, directories, globs, `-` — and reports runs, samples and
/// notices as they happen.
///
/// It is driven from outside, so that the dashboard and the headless commands share it: call ``poll(now:emit:)``,
/// then ``wait(timeout:)`` until something changes (or the poll interval passes), and again. All work is
/// done on the caller's thread, a bounded number of bytes per file per round.
public final class LogFollower {
    private let options: FollowOptions
    private let specs: [PathSpec]
    private let notifier: ChangeNotifier
    private var files: [FollowedFile] = []
    private var fileByPath: [String: FollowedFile] = [:]
    /// Runs written to several files (a TensorBoard run folder, a trainer's checkpoints), found in watched
    /// directories and globs.
    private var runByGroup: [RunGroup: FollowedFile] = [:]
    private var stores: [FollowedStore] = []
    private var storePaths: Set<String> = []
    private var standardInput: StandardInputSource?
    /// `host:path` arguments: runs on other machines, over ssh.
    private var remotes: [RemoteSource] = []
    /// Sources (files, run groups, store runs, standard input) grouped into runs.
    private var assembly = RunAssembly()
    private let readBuffer = ReadBuffer()
    /// Names for runs read from standard input and pipes, by path (`-` for standard input).
    private let streamNames: [String: String]
    /// The paths of streams named with `--name`: a name their log records does not replace it.
    private let namedByUser: Set<String>
    /// Whether every spec is standard input or a pipe: then following ends when they all have.
    private let onlyStreams: Bool
    /// Files that had more to read when their round's budget ran out, by their source number.
    private var busy: Set<Int> = []
    private var lastFullCheck = -Double.infinity
    /// What was last said about each spec that names no run log yet, so that each thing is said once.
    private var announcedEmpty: [Int: Notice] = [:]
    private var announcedUnlistable: Set<String> = []
    /// For each directory or glob spec, the directories its last scan walked, as they were, and when.
    private var lastScans: [Int: (stamps: DirectoryStamps, time: Double, wallTime: Double)] = [:]
    static let rescanInterval = 10.0
    private var started = false

    public init(arguments: [String], options: FollowOptions) {
        self.options = options
        var localArguments: [String] = []
        for argument in arguments {
            if case .success(let location)? = RemoteLocation.parse(argument) {
                remotes.append(RemoteSource(location: location, options: options))
            } else {
                localArguments.append(argument)
            }
        }
        specs = localArguments.map(PathSpec.init(argument:))
        notifier = ChangeNotifier(enabled: !options.forcePolling)
        streamNames = Self.streamNames(specs, given: options.streamNames)
        namedByUser = Set(Self.streamPaths(specs).prefix(options.streamNames.count))
        onlyStreams = specs.allSatisfy { $0 == .standardInput || $0.isPipe }
    }

    deinit { for remote in remotes { remote.stop() } }

    /// The arguments that name no usable place: remote ones without a host or a path. (Every local path is
    /// usable: one that is not there yet is waited for.)
    public static func unusableArguments(_ arguments: [String]) -> [RemoteLocationError] {
        arguments.compactMap {
            if case .failure(let error)? = RemoteLocation.parse($0) { error } else { nil }
        }
    }

    /// How many PATH arguments are read as streams (standard input, pipes and FIFOs): the runs `--name`
    /// can name, in this order.
    public static func streamCount(_ arguments: [String]) -> Int {
        arguments.filter { RemoteLocation.parse($0) == nil }.map(PathSpec.init(argument:)).filter {
            $0 == .standardInput || $0.isPipe
        }.count
    }

    /// A person's names for streams: `stdin`; `pipe` for the one pipe of a process substitution (named
    /// `/dev/fd/63` by the shell), `pipe1`, `pipe2`… for several; a named FIFO by its name, like a file.
    /// Names given with `--name` take their place, in the order of the arguments.
    private static func streamNames(_ specs: [PathSpec], given: [String]) -> [String: String] {
        let streams = streamPaths(specs)
        let anonymous = streams.filter(PathSpec.isAnonymousPipe)
        var names: [String: String] = [:]
        for (index, path) in streams.enumerated() {
            if index < given.count {
                names[path] = given[index]
            } else if path == "-" {
                names[path] = "stdin"
            } else if let number = anonymous.firstIndex(of: path) {
                names[path] = anonymous.count == 1 ? "pipe" : "pipe\(number + 1)"
            }
        }
        return names
    }

    /// The paths of the specs read as streams, in order (`-` for standard input).
    private static func streamPaths(_ specs: [PathSpec]) -> [String] {
        specs.compactMap { spec -> String? in
            switch spec {
            case .standardInput: "-"
            case .file(let path) where spec.isPipe: path
            default: nil
            }
        }
    }

    /// A PATH argument spelled as the paths of the runs it names are reported (`./runs/` is `runs`).
    public static func normalizedPath(_ argument: String) -> String {
        argument == "-" ? argument : RunLogFiles.normalized(argument)
    }

    /// `path` from the root (`-` as it is): how a run's source is named where it must stay the same
    /// whatever the current folder (the record of delivered alerts).
    public static func absolutePath(_ path: String) -> String { RunLogFiles.absolute(path) }

    /// Descriptors that become readable when there is something to do (inotify, standard input).
    public var waitDescriptors: [Int32] {
        var descriptors: [Int32] = []
        if notifier.isActive { descriptors.append(notifier.descriptor) }
        if let standardInput, !standardInput.hasEnded { descriptors.append(standardInput.descriptor) }
        descriptors += files.compactMap(\.streamDescriptor)
        for remote in remotes { descriptors += remote.descriptors }
        return descriptors
    }

    /// True when nothing more can ever arrive: every source was standard input or a pipe, and all ended.
    public var hasEnded: Bool {
        started && onlyStreams && !isWaitingForStreams && remotes.allSatisfy(\.hasEnded)
            && files.count + (standardInput == nil ? 0 : 1) == specs.count
    }

    /// Whether inotify is in use (otherwise every change is found by polling).
    public var usesInotify: Bool { notifier.isActive }

    /// Does one round: notices changes, reads what is new. Returns true when some source had more than its
    /// round's budget waiting, so the caller should poll again without waiting.
    ///
    /// `clock` is read again for each source: `emit` may wait (the dashboard's reader waits for room in its
    /// queue), and a file looked at after a wait must not be given the round's start as its time (it
    /// would seem to have been still for longer than it has).
    @discardableResult
    public func poll(now clock: @autoclosure () -> Double, emit: (FollowEvent) -> Void) -> Bool {
        let moreWaiting = pollSources(now: clock(), emit: emit)
        assembly.endRound(isBusy: { busy.contains($0) }, emit: emit)
        return moreWaiting
    }

    /// Polls every source; what they report goes through ``assembly`` (`emit` is for what is said of runs).
    private func pollSources(now clock: @autoclosure () -> Double, emit: (FollowEvent) -> Void) -> Bool {
        let now = clock()
        let routed: (FollowEvent) -> Void = { self.route($0, emit: emit) }
        if !started { start(now: now, emit: emit) }
        let changed = notifier.drain()
        let fullCheck = changed == nil || now - lastFullCheck >= options.pollInterval
        if fullCheck {
            lastFullCheck = now
            discoverFiles(now: now, emit: emit)
        } else if let changed, changed.contains(where: { fileByPath[$0] == nil }) {
            discoverFiles(now: now, emit: emit)  // something appeared in a watched directory
        }
        var moreWaiting = false
        var toCheck = files
        if !fullCheck, let changed {
            // A change to any file of a run (a run's next event file, say, not the one being read) is news
            // for the run.
            let touched = Set(changed.compactMap { fileByPath[$0].map(ObjectIdentifier.init) })
            toCheck = files.filter {
                touched.contains(ObjectIdentifier($0)) || busy.contains($0.run)
                    || $0.awaitingNewFile || $0.isOpenStream
            }
        }
        for file in toCheck {
            if file.poll(now: clock(), emit: routed) {
                busy.insert(file.run)
                moreWaiting = true
            } else {
                busy.remove(file.run)
            }
        }
        if let standardInput, standardInput.poll(now: clock(), emit: routed) { moreWaiting = true }
        for remote in remotes {
            let more = remote.poll(
                now: clock(),
                addRun: { name, path in
                    assembly.addSource(
                        path: path, runKey: "\u{0}remote " + path + "\u{0}" + name, namePath: path,
                        shownPath: path, announceAtOnce: true, proposedName: name, emit: emit)
                }, emit: routed)
            if more { moreWaiting = true }
        }
        for store in stores where fullCheck || store.isAffected(by: changed!) {
            store.poll(
                addRun: { name in
                    assembly.addSource(
                        path: store.path, runKey: store.path + "\u{0}" + name, namePath: store.path,
                        shownPath: store.path,
                        announceAtOnce: true, proposedName: name, emit: emit)
                }, emit: routed)
            for directory in store.watchedDirectories { notifier.watch(directory: directory) }
        }
        return moreWaiting
    }

    /// Takes every file as complete, for reading to the end rather than following: last records without
    /// their terminator are read (or counted as bad).
    public func finishAll(emit: (FollowEvent) -> Void) {
        for file in files { file.finish { route($0, emit: emit) } }
        assembly.endRound(isBusy: { _ in false }, finished: true, emit: emit)
    }

    /// What a source reported, for ``assembly``; a name its log records
    /// (``FollowEvent/runNamed(run:name:path:)``) never replaces one given with `--name`.
    private func route(_ event: FollowEvent, emit: (FollowEvent) -> Void) {
        if case .runNamed(_, _, let path) = event, namedByUser.contains(path) { return }
        assembly.route(event, emit: emit)
    }

    /// True while standard input or a pipe is among the sources and has not ended (its writer may take its
    /// time: reading to the end waits for it).
    public var isWaitingForStreams: Bool {
        standardInput.map { !$0.hasEnded } ?? false || files.contains(where: \.isOpenStream)
            || remotes.contains { !$0.hasEnded }
    }

    /// Waits until a descriptor is readable or `timeout` seconds pass.
    public func wait(timeout: Double) {
        var descriptors = waitDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = Glibc.poll(&descriptors, nfds_t(descriptors.count), Self.pollMilliseconds(timeout))
    }

    /// A wait in seconds as poll(2)'s milliseconds, rounded up (at most an hour). Rounded down, a wait of
    /// 0.9 ms becomes 0 and a loop waiting for a deadline spins until it passes, several times a wake.
    public static func pollMilliseconds(_ seconds: Double) -> Int32 {
        guard seconds > 0 else { return 0 }
        return Int32((min(seconds, 3600) * 1000).rounded(.up))
    }

    private func start(now: Double, emit: (FollowEvent) -> Void) {
        started = true
        for spec in specs where spec == .standardInput && standardInput == nil {
            let run = assembly.addSource(
                path: "-", runKey: "-", shownPath: "-", announceAtOnce: true, proposedName: streamNames["-"],
                emit: emit)
            standardInput = StandardInputSource(run: run, options: options, now: now)
        }
    }

    /// Finds the files each spec names now; new ones become runs.
    private func discoverFiles(now: Double, emit: (FollowEvent) -> Void) {
        for (index, spec) in specs.enumerated() {
            // A directory tree is walked again only when one of its directories changed, or every
            // `rescanInterval` for safety: walking dozens of runs every second would cost more than following them.
            if let last = lastScans[index], now - last.time < Self.rescanInterval,
                last.stamps.areUnchanged(since: last.wallTime)
            {
                continue
            }
            let scan = spec.scan()
            if spec.isStampable {
                lastScans[index] = (DirectoryStamps(scan.directories), now, Double(time(nil)))
            }
            let current = scan.files
            for directory in scan.directories { notifier.watch(directory: directory) }
            let found = current.filter { fileByPath[$0] == nil && !storePaths.contains($0) }
            for path in RunGroup.inRankOrder(found) {
                adopt(path, spec: spec, now: now, emit: emit)
            }
            for directory in scan.unlistable where !announcedUnlistable.contains(directory) {
                announcedUnlistable.insert(directory)
                emit(
                    .notice(
                        run: nil,
                        Notice(
                            .permissionDenied, path: directory,
                            "permission denied: its run logs cannot be listed (kltop only needs to read them)"
                        )))
            }
            if current.isEmpty, scan.unlistable.isEmpty, let notice = Self.nothingYet(spec),
                announcedEmpty[index] != notice
            {
                announcedEmpty[index] = notice
                emit(.notice(run: nil, notice))
            }
        }
    }

    /// What to say about a directory or glob that names no run log yet.
    private static func nothingYet(_ spec: PathSpec) -> Notice? {
        switch spec {
        case .directory(let path) where !PathSpec.exists(path):
            Notice(.waitingForFile, path: path, "no such directory yet; waiting for it to appear")
        case .directory(let path), .file(let path):
            Notice(.nothingToFollowYet, path: path, "no run logs in it yet; watching for new ones")
        case .glob(let pattern):
            Notice(.nothingToFollowYet, path: pattern, "no files match yet; watching for new ones")
        case .standardInput: nil
        }
    }

    /// Starts following a newly found file: as a store (rlwatch's, MLflow's, Trackio's), as one more file of a source already
    /// followed (``RunGroup``: found in a directory or glob, not named on its own), or as a source of its
    /// run (``RunFolder``: a file named on the command line is a run of its own).
    private func adopt(_ path: String, spec: PathSpec, now: Double, emit: (FollowEvent) -> Void) {
        if FollowedStore.isStore(path: path, forced: options.inputFormat) {
            storePaths.insert(path)
            let quiet = spec != .file(path) && !FollowedStore.isStoreName(path)
            stores.append(FollowedStore(path: path, options: options, quiet: quiet))
            return
        }
        let grouping = spec != .file(path)
        if grouping && RunLogFiles.isDatabaseName(RunLogFiles.name(of: path)) {
            // A `.db` file found in a folder that is no SQLite database: not a run log.
            storePaths.insert(path)
            return
        }
        let member = grouping ? RunGroup.member(path: path) : nil
        if let member, let file = runByGroup[member.group] {
            file.add(member: path, rank: member.rank)
            fileByPath[path] = file
            return
        }
        let source: Int
        if let root = spec.root, grouping {
            // A rotated log is known by its live log, whichever of its parts was found first; a trainer's
            // checkpoints by all of them (the one read moves to the newest).
            let log = member?.group.kind == .rotatedLog ? member!.group.folder : path
            let shownLog =
                member?.group.kind == .trainerCheckpoints
                ? RunLogFiles.join(member!.group.folder, "checkpoint-*/trainer_state.json") : log
            let key = RunFolder.key(ofLog: log, root: root)
            source = assembly.addSource(
                path: shownLog, runKey: key, shownPath: key, announceAtOnce: false,
                emit: emit)
        } else {
            // A run of several files is shown as its folder: its first file may be long gone (rotated
            // checkpoints).
            // Its own run, even where a folder found later holds the same path (`kltop qwen2.5-grpo` waited
            // for as a file, made as a folder).
            source = assembly.addSource(
                path: path, runKey: "\u{0}named " + path, namePath: path,
                shownPath: member?.group.folder ?? path,
                announceAtOnce: true, proposedName: streamNames[path], emit: emit)
        }
        let file = FollowedFile(
            path: path, run: source, options: options, now: now, member: member, buffer: readBuffer)
        files.append(file)
        fileByPath[path] = file
        if let member { runByGroup[member.group] = file }
    }
}
