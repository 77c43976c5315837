import RunLogs

#if canImport(Glibc)
    import Glibc
#endif

/// Turns what the sources report (each file, run group, store run or stream numbered as a source) into
/// what runs report: one run per training run, whatever number of logs it wrote.
///
/// - Logs found under one run folder (``RunFolder``) are the sources of one run. Of those that hold KL one
///   is the run's series (its *primary*); the others' samples are reported too, as ``FollowEvent/sourceSamples``,
///   so that the dashboard can switch to them.
/// - A log found in a folder becomes a run only once it gives a KL sample: one without KL is reported once
///   as ``FollowEvent/logWithoutKL`` once it has been read, and becomes a run if KL turns up later.
///   A path named on the command line, standard input and a store's runs are runs at once.
/// - A run with several sources is held back until each has been read as far as it goes, so that the
///   primary is chosen on what they hold (``isLessPreferred(_:_:)``) and consumers that read to the end (`check`,
///   `export`) never see a series replaced. A source that joins a run later is one more source; it does not
///   take over (a key of the dashboard switches).
/// - Names: the run folder's name; where runs share it, the shortest suffix of their paths that tells
///   them apart (`lr1e-2/seed0`), a counter only when no path can.
struct RunAssembly {
    private struct Source {
        var runIndex: Int
        var path: String
        var samplesHeld: [MetricSample] = []
        var metricKey: String?
        var statistics = ReadStatistics()
        var klSamples = 0
    }

    private struct Run {
        var key: String
        var name: String?
        /// The number consumers know the run by, once it has been reported.
        var number: Int?
        var sources: [Int] = []
        /// The sources that gave KL, in the order consumers number them (``FollowEvent/sourcesListed``).
        var listed: [Int] = []
        var primary: Int?
        var announceAtOnce: Bool
        var proposedName: String?
        /// The name a source's log records for its run (a W&B run's display name): the run's name, before
        /// one proposed (`stdin`, `pipe`).
        var nameFromLog: String?
        var shownPath: String
        /// ``nameComponents(_:)`` of the key, worked out once.
        var components: [String]
    }

    private var sources: [Source] = []
    private var runs: [Run] = []
    private var runByKey: [String: Int] = [:]
    private var announcedCount = 0
    private var takenNames: Set<String> = []
    /// Runs with several sources not reported yet, to look at when a round ends.
    private var held: Set<Int> = []
    /// Sources found in folders that have given no KL sample and have not been said to hold none.
    private var withoutKLSoFar: Set<Int> = []

    /// A new source of the run `key` stands for; returns its number. `announceAtOnce` makes the run known
    /// to consumers at once (a path named on the command line, standard input, a store's run), with
    /// `proposedName` as its name if given. `shownPath` is the path the run is reported with; its name is
    /// made from `namePath` (the key, unless given).
    mutating func addSource(
        path: String, runKey key: String, namePath: String? = nil, shownPath: String, announceAtOnce: Bool,
        proposedName: String? = nil, emit: (FollowEvent) -> Void
    ) -> Int {
        let runIndex: Int
        if let existing = runByKey[key] {
            runIndex = existing
        } else {
            runIndex = runs.count
            runs.append(
                Run(
                    key: key, announceAtOnce: announceAtOnce, proposedName: proposedName,
                    shownPath: shownPath,
                    components: Self.nameComponents(namePath ?? key)))
            runByKey[key] = runIndex
        }
        let source = sources.count
        sources.append(Source(runIndex: runIndex, path: path))
        runs[runIndex].sources.append(source)
        if !announceAtOnce { withoutKLSoFar.insert(source) }
        if runs[runIndex].number == nil && announceAtOnce {
            runs[runIndex].primary = source
            announce(runIndex, emit)
        }
        return source
    }

    /// The number consumers know the run of `source` by, once it has been reported.
    func run(ofSource source: Int) -> Int? { runs[sources[source].runIndex].number }

    /// What a source reported, reported for its run.
    mutating func route(_ event: FollowEvent, emit: (FollowEvent) -> Void) {
        switch event {
        case .samples(let source, let samples, let metricKey, let statistics):
            sources[source].metricKey = metricKey
            sources[source].statistics = statistics
            sources[source].klSamples += samples.count
            let index = sources[source].runIndex
            if let number = runs[index].number {
                // A source of a run already shown that gives its first KL sample: one more to switch to.
                if !samples.isEmpty && !runs[index].listed.contains(source) {
                    runs[index].listed.append(source)
                    emitSources(of: index, emit)
                }
                emitSamples(source, of: number, samples, emit)
            } else {
                sources[source].samplesHeld += samples
                // A run of one source is reported with its first KL sample: nothing to choose between.
                if runs[index].sources.count == 1 && !samples.isEmpty {
                    runs[index].primary = source
                    announce(index, emit)
                } else if runs[index].sources.count > 1 {
                    held.insert(index)
                }
            }
        case .notice(let source?, let notice):
            let run = runs[sources[source].runIndex]
            if let number = run.number, run.primary == source {
                emit(.notice(run: number, notice))
            } else {
                emit(.notice(run: nil, notice))
            }
        case .runEnded(let source):
            let run = runs[sources[source].runIndex]
            if let number = run.number, run.primary == source { emit(.runEnded(run: number)) }
        case .recordedAlerts(let source, let alerts):
            if let number = run(ofSource: source) { emit(.recordedAlerts(run: number, alerts)) }
        case .runNamed(let source, let name, _):
            let index = sources[source].runIndex
            // (`--name` keeps its name: LogFollower passes no name on for a stream it names.)
            guard runs[index].nameFromLog != name else { return }
            runs[index].nameFromLog = name
            // A run not reported yet is reported under it; one already shown is renamed.
            guard let number = runs[index].number, let old = runs[index].name else { return }
            takenNames.remove(old)
            let renamed = uniqueName(for: index)
            runs[index].name = renamed
            takenNames.insert(renamed)
            if renamed != old { emit(.runNamed(run: number, name: renamed, path: runs[index].shownPath)) }
        case .notice(nil, _), .runAppeared, .sourceSamples, .sourcesListed, .logWithoutKL, .sourceDisagrees:
            emit(event)
        }
    }

    /// A round of reading is over; `isBusy` says which sources had more waiting. Runs with several sources
    /// whose sources have all been read as far as they go are reported, with their primary chosen; sources
    /// read that far without a KL sample are reported as logs without KL (all of them when `finished`: the
    /// logs were read to their ends, also those that held nothing kltop could count).
    mutating func endRound(isBusy: (Int) -> Bool, finished: Bool = false, emit: (FollowEvent) -> Void) {
        for index in held.sorted() where runs[index].number == nil {
            let members = runs[index].sources
            guard !members.contains(where: isBusy) else { continue }
            held.remove(index)
            guard let best = members.filter({ sources[$0].klSamples > 0 }).max(by: isLessPreferred) else {
                continue
            }
            runs[index].primary = best
            announce(index, emit)
        }
        for source in withoutKLSoFar.sorted() {
            guard sources[source].klSamples == 0 else {
                withoutKLSoFar.remove(source)
                continue
            }
            guard !isBusy(source) else { continue }
            let statistics = sources[source].statistics
            // A file still empty may yet become a run log; one with bytes and nothing usable is said once.
            guard finished || statistics.records > 0 || statistics.badLines > 0 || statistics.bytes > 0 else {
                continue
            }
            withoutKLSoFar.remove(source)
            emit(.logWithoutKL(path: sources[source].path, statistics: statistics))
        }
    }

    // MARK: - Reporting

    private mutating func announce(_ index: Int, _ emit: (FollowEvent) -> Void) {
        let number = announcedCount
        announcedCount += 1
        let name = uniqueName(for: index)
        runs[index].name = name
        runs[index].number = number
        takenNames.insert(name)
        emit(.runAppeared(run: number, name: name, path: runs[index].shownPath))
        let primary = runs[index].primary!
        let others = runs[index].sources.filter { $0 != primary && sources[$0].klSamples > 0 }
        runs[index].listed = [primary] + others
        if runs[index].listed.count > 1 {
            emitSources(of: index, emit)
            for other in runs[index].listed.dropFirst() {
                if let note = disagreement(of: other, with: primary) {
                    emit(.sourceDisagrees(run: number, path: sources[other].path, note: note))
                }
            }
        }
        // What was held, the primary's first: consumers that use only the primary see its whole series.
        for source in runs[index].listed {
            let samples = sources[source].samplesHeld
            sources[source].samplesHeld = []
            guard !samples.isEmpty || sources[source].statistics != ReadStatistics() else { continue }
            emitSamples(source, of: number, samples, emit)
        }
    }

    private func emitSamples(
        _ source: Int, of number: Int, _ samples: [MetricSample], _ emit: (FollowEvent) -> Void
    ) {
        let run = runs[sources[source].runIndex]
        let metricKey = sources[source].metricKey
        let statistics = sources[source].statistics
        if run.primary == source {
            emit(.samples(run: number, samples, metricKey: metricKey, statistics: statistics))
        } else if let position = run.listed.firstIndex(of: source) {
            emit(
                .sourceSamples(
                    run: number, source: position, samples, metricKey: metricKey, statistics: statistics))
        }
    }

    private func emitSources(of index: Int, _ emit: (FollowEvent) -> Void) {
        let run = runs[index]
        guard let number = run.number, let primary = run.primary else { return }
        emit(
            .sourcesListed(
                run: number, paths: run.listed.map { sources[$0].path },
                primary: run.listed.firstIndex(of: primary)!)
        )
    }

    /// How `other`'s samples differ from `primary`'s, read as far as both are: steps only one of them has,
    /// values apart by more than the coarser one's precision (a float32's for logs at full precision too:
    /// stable-baselines3 writes the same float32 as `2.2538006e-05` in its CSV and as
    /// `2.253800630569458e-05` in its JSON; printed digits for console output). Nil when they agree.
    private func disagreement(of other: Int, with primary: Int) -> String? {
        let tolerance =
            [0: 1e-7, 1: 1e-6, 2: 5e-3][
                max(Self.precisionClass(sources[other].path), Self.precisionClass(sources[primary].path))]!
        var values: [Int64: Double] = [:]
        for sample in sources[primary].samplesHeld { values[sample.step] = sample.value }
        var differing = 0
        var first: (step: Int64, value: Double, there: Double)?
        var onlyHere = 0
        var common = 0
        for sample in sources[other].samplesHeld {
            guard let there = values[sample.step] else {
                onlyHere += 1
                continue
            }
            common += 1
            let scale = max(abs(there), abs(sample.value), 1e-300)
            let same =
                sample.value == there || (sample.value.isNaN && there.isNaN)
                || abs(sample.value - there) <= tolerance * scale
            if !same {
                differing += 1
                if first == nil { first = (sample.step, sample.value, there) }
            }
        }
        let missing = values.count - common
        var parts: [String] = []
        if let first {
            parts.append(
                "\(differing) of \(common) steps in common differ (step \(first.step): \(first.value) here, \(first.there) in the run's series)"
            )
        }
        if onlyHere > 0 { parts.append("\(onlyHere) step\(onlyHere == 1 ? "" : "s") only here") }
        if missing > 0 { parts.append("\(missing) step\(missing == 1 ? "" : "s") of the series not here") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    // MARK: - Choosing the primary

    /// How a source ranks as a run's series: full precision before float32 (TensorBoard scalars) before
    /// console output (printed with a few digits); then the most KL samples; then the newest file.
    private func isLessPreferred(_ a: Int, _ b: Int) -> Bool {
        let left = (
            -Self.precisionClass(sources[a].path), sources[a].klSamples,
            Self.modificationTime(sources[a].path)
        )
        let right = (
            -Self.precisionClass(sources[b].path), sources[b].klSamples,
            Self.modificationTime(sources[b].path)
        )
        return left < right
    }

    /// 0 full precision (JSON Lines, CSV, trainer_state.json, databases), 1 float32, 2 console text.
    static func precisionClass(_ path: String) -> Int {
        let name = RunLogFiles.name(of: path)
        if TensorBoardRunDirectory.isEventFileName(LogRotation.baseName(name)) { return 1 }
        return RunFolder.isConsoleOutput(name) ? 2 : 0
    }

    private static func modificationTime(_ path: String) -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    // MARK: - Names

    /// The run's name: the one its log records (where that is taken, prefixed with its folder), or the
    /// one proposed (a stream's, a store's), or its folder's; where that is taken or shared with another
    /// run known so far, the shortest suffix of its path that is not.
    private func uniqueName(for index: Int) -> String {
        let run = runs[index]
        let components = run.components
        var candidates: [String] = []
        if let logged = run.nameFromLog {
            candidates.append(logged)
            if components.count >= 2 { candidates.append(components[components.count - 2] + "/" + logged) }
        } else if let proposed = run.proposedName {
            // A store's run or a stream: where its name is taken, prefixed with the store's folder.
            candidates.append(proposed)
            if components.count >= 2 { candidates.append(components[components.count - 2] + "/" + proposed) }
        } else {
            let others = runs.indices.filter { $0 != index && runs[$0].proposedName == nil }
                .map { runs[$0].components }
            for length in 1...max(1, components.count) {
                let suffix = components.suffix(length)
                if !others.contains(where: { $0.count >= length && $0.suffix(length) == suffix }) {
                    candidates.append(suffix.joined(separator: "/"))
                    break
                }
            }
            for length in 1...max(1, components.count) {
                candidates.append(components.suffix(length).joined(separator: "/"))
            }
        }
        for candidate in candidates where !takenNames.contains(candidate) { return candidate }
        let base = candidates.first ?? run.key
        var counter = 2
        while takenNames.contains("\(base)~\(counter)") { counter += 1 }
        return "\(base)~\(counter)"
    }

    /// The path of a run's key from the root, as names are made of it: a log that is a run of its own is
    /// named by its stem (`ppo_lr3e-4.jsonl` is `ppo_lr3e-4`), or its folder's when the stem says nothing.
    static func nameComponents(_ key: String) -> [String] {
        if key == "-" { return ["stdin"] }
        var components = RunLogFiles.absolute(key).split(separator: "/").map(String.init)
        guard let last = components.last else { return [key] }
        if !PathSpec.isDirectory(key) {
            let name = RunNaming.name(forPath: RunLogFiles.absolute(key))
            components.removeLast()
            if name != RunNaming.stem(last) || name.isEmpty {
                // Named after a folder above the file (a generic file name): drop what lies below it.
                while let folder = components.last, folder != name { components.removeLast() }
                return components.isEmpty ? [name] : components
            }
            components.append(name)
        }
        return components
    }
}
