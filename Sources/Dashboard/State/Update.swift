import KLDetector
import KltopKit
import RunLogs

/// Applies one event to the state and returns the side effects the terminal layer should perform.
///
/// Pure apart from `state`: no I/O, no clock. The Elm/bubbletea shape: the terminal layer turns input,
/// file reads and timers into events, and acts on the effects.
public func update(_ state: inout DashboardState, _ event: DashboardEvent) -> [DashboardEffect] {
    state.apply(event)
}

extension DashboardState {
    public mutating func apply(_ event: DashboardEvent) -> [DashboardEffect] {
        let effects = applyEvent(event)
        // The focus follows the worst run until a focus key is pressed: when runs come, alerts are
        // delivered, the order or the filter change. (Not on every batch of samples: sorting hundreds of
        // runs per batch would cost more than the batch.)
        switch event {
        case .runAdded, .keyPressed: keepFocusInOrder()
        case .tick: break
        default: if !effects.isEmpty { keepFocusInOrder() }
        }
        return effects
    }

    /// The focus on a run that is shown: the first in the order while it follows the order, or when the
    /// focused run is filtered out.
    mutating func keepFocusInOrder() {
        guard !runs.isEmpty else { return }
        let order = runOrder
        if let first = order.first, focusFollowsOrder || !order.contains(focus) { focus = first }
    }

    private mutating func applyEvent(_ event: DashboardEvent) -> [DashboardEffect] {
        switch event {
        case .runAdded(let id, let name, let source):
            if let index = index(of: id) {
                runs[index].rename(name, source: source)
            } else {
                runs.append(RunState(id: id, name: name, source: source, settings: settings, policy: policy))
                pausedCounts?[id] = 0
            }
            // A run from a path following had a word about (a folder now listed, a store now opened): that
            // word is out of date. Following says nothing when a problem clears.
            let added = TerminalText.inert(source)
            sourceNotices.removeAll { added == $0.path || added.hasPrefix($0.path + "/") }
            return []
        case .samplesAppended(let id, let metricKey, let samples, let statistics):
            guard let index = index(of: id) else { return [] }
            return appendSamples(
                index, source: runs[index].followedPrimary, samples, metricKey: metricKey,
                statistics: statistics)
        case .sourceSamplesAppended(let id, let source, let metricKey, let samples, let statistics):
            guard let index = index(of: id) else { return [] }
            return appendSamples(index, source: source, samples, metricKey: metricKey, statistics: statistics)
        case .sourcesListed(let id, let paths, let primary):
            guard let index = index(of: id) else { return [] }
            runs[index].listSources(paths, primary: primary)
            return []
        case .sourceDisagrees(let id, let path, let note):
            guard let index = index(of: id) else { return [] }
            runs[index].noteDisagreement(path: TerminalText.inert(path), TerminalText.inert(note))
            return []
        case .logWithoutKL(let path, let statistics):
            let log = LogWithoutKL(
                path: TerminalText.inert(path), records: statistics.records,
                keys: statistics.keysSeen.prefix(12).map(TerminalText.inert),
                reason: ReadReport.whyNoKL(keysSeen: statistics.keysSeen))
            if !logsWithoutKL.contains(where: { $0.path == log.path }) { logsWithoutKL.append(log) }
            if logsWithoutKL.count > Self.maximumSourceNotices { logsWithoutKL.removeFirst() }
            return []
        case .runStatusChanged(let id, let status):
            guard let index = index(of: id) else { return [] }
            runs[index].setStatus(status)
            return []
        case .recordedAlertsAppended(let id, let alerts):
            guard let index = index(of: id) else { return [] }
            runs[index].record(alerts)
            return []
        case .alertUndelivered(let id, let step, let severity, let channel):
            guard let index = index(of: id) else { return [] }
            runs[index].markUndelivered(
                AlertKey(step: step, severity: severity), channel: TerminalText.inert(channel))
            return []
        case .deliveryReported(let line):
            deliveryLines.append(TerminalText.inert(line))
            if deliveryLines.count > Self.maximumDeliveryLines { deliveryLines.removeFirst() }
            return []
        case .sourceNoticed(let path, let message, let isProblem):
            let notice = SourceNotice(
                path: TerminalText.inert(path), message: TerminalText.inert(message), isProblem: isProblem)
            if let index = sourceNotices.firstIndex(where: { $0.path == notice.path }) {
                sourceNotices[index] = notice
            } else {
                sourceNotices.append(notice)
                if sourceNotices.count > Self.maximumSourceNotices { sourceNotices.removeFirst() }
            }
            return []
        case .keyPressed(let key):
            return press(key)
        case .resized(let width, let height):
            size = (max(0, width), max(0, height))
            return []
        case .tick(let time):
            return tick(time)
        }
    }

    private mutating func appendSamples(
        _ index: Int, source: Int, _ samples: [MetricSample], metricKey: String?, statistics: ReadStatistics
    ) -> [DashboardEffect] {
        let wasEmpty = runs[index].history.isEmpty
        if !samples.isEmpty {
            // Before the first tick there is no clock yet: the first tick counts as the arrival.
            if let now { runs[index].activity.observe(at: now) }
            runs[index].isStale = false
        }
        let delivered = runs[index].appendToSource(
            source, samples, metricKey: metricKey, statistics: statistics, sequence: &alertSequence)
        // The first samples show at once; after that the header waits for a tick.
        if wasEmpty && !isPaused { refreshFigures(of: index) }
        // One bell per batch, however many alerts it delivered: for the worst of them.
        guard let worst = delivered.map(\.severity).max() else { return [] }
        return [.bell(worst), .alertsDelivered(runs[index].id, delivered)]
    }

    /// Returns `figuresChanged` when any figure on screen changed, and `runWentStale` for each run that
    /// has just gone quiet.
    private mutating func tick(_ time: Double) -> [DashboardEffect] {
        let changed = refreshOnTick(time)
        return (changed.figures ? [.figuresChanged] : []) + changed.stale.map { .runWentStale($0) }
    }

    private mutating func refreshOnTick(_ time: Double) -> (figures: Bool, stale: [RunID]) {
        now = time
        for index in runs.indices {
            runs[index].rateMeter.observe(time: time, count: runs[index].history.count)
        }
        guard !isPaused else { return (false, []) }
        if let last = lastFigureRefresh, time - last < options.figureInterval, time >= last {
            return (false, [])
        }
        lastFigureRefresh = time
        var changed = false
        var wentStale: [RunID] = []
        for index in runs.indices {
            if runs[index].activity.lastActivity == nil && !runs[index].history.isEmpty {
                runs[index].activity.observe(at: time)
            }
            let stale =
                runs[index].activity.isStale(at: time) && !runs[index].isFinished
                && runs[index].sourceStatus != .ended
            let minutes = stale ? Int((runs[index].activity.silence(at: time) ?? 0) / 60) : 0
            if stale != runs[index].isStale || minutes != runs[index].staleMinutes {
                if stale && !runs[index].isStale { wentStale.append(runs[index].id) }
                runs[index].isStale = stale
                runs[index].staleMinutes = minutes
                changed = true
            }
            let before = runs[index].figures
            refreshFigures(of: index)
            if !runs[index].figures.showsTheSame(as: before) { changed = true }
        }
        return (changed, wentStale)
    }

    /// Refreshes a run's header figures from the live state (or the paused prefix, after a re-run).
    mutating func refreshFigures(of index: Int, verdict: StepVerdict?? = nil) {
        let count = visibleCount(of: runs[index])
        let shown = verdict ?? (count == runs[index].history.count ? runs[index].lastVerdict : nil)
        runs[index].refreshFigures(count: count, verdict: shown)
    }

    private mutating func press(_ key: Key) -> [DashboardEffect] {
        if isTypingFilter {
            typeFilter(key)
            return []
        }
        if key == .character("q") { return [.quit] }
        switch screen {
        case .help:
            switch key {
            case .character("?"), .escape, .enter: screen = .runs
            case .up, .down, .pageUp, .pageDown, .home, .end: scrollBy(key)
            default: break
            }
            return []
        case .alertHistory:
            switch key {
            case .character("h"), .escape, .enter: screen = .runs
            case .character("a"): acknowledgeAll()
            case .up, .down, .pageUp, .pageDown, .home, .end: scrollBy(key)
            default: break
            }
            return []
        case .runs:
            break
        }
        if inspect != nil {
            switch key {
            case .character("i"), .escape:
                inspect = nil
                return []
            case .left: moveInspect(byColumns: -1)
            case .right: moveInspect(byColumns: 1)
            case .shiftLeft: moveInspect(byColumns: -10)
            case .shiftRight: moveInspect(byColumns: 10)
            default: break
            }
            if [.left, .right, .shiftLeft, .shiftRight].contains(key) { return [] }
        }
        switch key {
        case .character("i"):
            enterInspect()
            return []
        case .character("/"):
            isTypingFilter = true
            return []
        case .escape where !filter.isEmpty:
            filter = ""
        case .character("r"): order = order.next
        case .pageDown: moveFocus(by: max(1, size.height - 3))
        case .pageUp: moveFocus(by: -max(1, size.height - 3))
        case .character("?"): open(.help)
        case .character("h"): open(.alertHistory)
        case .character("p"): togglePause()
        case .tab, .down, .right: moveFocus(by: 1)
        case .backTab, .up, .left: moveFocus(by: -1)
        case .character("+"), .character("="):
            changeSettings { $0.sigmaMultiplier = SettingLadders.sigma($0.sigmaMultiplier, up: true) }
        case .character("-"), .character("_"):
            changeSettings { $0.sigmaMultiplier = SettingLadders.sigma($0.sigmaMultiplier, up: false) }
        case .character("["):
            changeSettings { $0.rollingWindow = SettingLadders.window($0.rollingWindow, up: false) }
        case .character("]"):
            changeSettings { $0.rollingWindow = SettingLadders.window($0.rollingWindow, up: true) }
        case .character("b"):
            changeSettings { $0.baselineMode = $0.baselineMode == .rolling ? .frozen : .rolling }
        case .character("w"):
            changeSettings { $0.warmupSteps = SettingLadders.nextWarmup($0.warmupSteps) }
        case .character("l"): options.logScale.toggle()
        case .character("s"):
            let weights = ViewOptions.smoothingWeights
            let current = weights.firstIndex(of: options.smoothing) ?? 0
            options.smoothing = weights[(current + 1) % weights.count]
        case .character("x"): options.zoom = options.zoom == .wholeRun ? .recent : .wholeRun
        case .character("y"): options.ignoresOutliers.toggle()
        case .character("o"): options.layout = options.layout == .stacked ? .overlay : .stacked
        case .character("a"): acknowledgeAll()
        case .character("f"):
            guard runs.indices.contains(focus) else { break }
            if runs[focus].showNextSource(settings: settings, policy: policy) {
                refreshFigures(of: focus, verdict: .some(runs[focus].lastVerdict))
                renumberAlerts()
            }
        default: break
        }
        // Another focus, other settings, a pause: the cursor's step stays, what it reads there is new.
        takeReadings()
        return []
    }

    private mutating func open(_ screen: Screen) {
        self.screen = screen
        scroll = 0
    }

    private mutating func scrollBy(_ key: Key) {
        let page = max(1, size.height - 3)
        switch key {
        case .up: scroll -= 1
        case .down: scroll += 1
        case .pageUp: scroll -= page
        case .pageDown: scroll += page
        case .home: scroll = 0
        case .end: scroll = Int.max / 2
        default: break
        }
        // Clamped again when drawn, where the number of lines is known.
        scroll = max(0, min(scroll, max(0, scrollLimit)))
    }

    /// How far the current screen scrolls: until its last line is at the bottom (or an upper bound).
    private var scrollLimit: Int {
        switch screen {
        case .help:
            // An upper bound: drawing clamps the last page to the screen.
            HelpText.lines.count + 16 + (focusedRun?.sources.count ?? 0) + logsWithoutKL.count
        case .alertHistory:
            // As drawn below the status bar: an alert's action takes a line or more, as the width allows.
            Renderer.alertHistoryLines(self, width: size.width).count - max(1, size.height - 1)
        case .runs: 0
        }
    }

    /// Moves the focus `delta` runs on in the order shown (wrapping for Tab and arrows, stopping at the
    /// ends for a page).
    private mutating func moveFocus(by delta: Int) {
        let order = runOrder
        guard !order.isEmpty else { return }
        focusFollowsOrder = false
        let position = order.firstIndex(of: focus) ?? 0
        let next =
            abs(delta) > 1
            ? min(max(0, position + delta), order.count - 1)
            : ((position + delta) % order.count + order.count) % order.count
        focus = order[next]
    }

    /// A key while the `/` filter is typed: characters add to it, Backspace takes the last off, Enter keeps
    /// it, Esc clears it.
    private mutating func typeFilter(_ key: Key) {
        switch key {
        case .character(let character): filter.append(character)
        case .backspace: if !filter.isEmpty { filter.removeLast() }
        case .enter, .tab: isTypingFilter = false
        case .escape:
            filter = ""
            isTypingFilter = false
        default: break
        }
    }

    private mutating func togglePause() {
        if pausedCounts == nil {
            var counts: [RunID: Int] = [:]
            for run in runs { counts[run.id] = run.history.count }
            pausedCounts = counts
        } else {
            pausedCounts = nil
            for index in runs.indices { refreshFigures(of: index) }
        }
    }

    private mutating func acknowledgeAll() {
        for index in runs.indices { runs[index].acknowledgeAll() }
    }

    /// Applies a change of detector settings and re-runs the detector over every run's whole history, so
    /// the band, the point colours and the banners all follow the new settings at once.
    private mutating func changeSettings(_ change: (inout DetectorSettings) -> Void) {
        var changed = settings
        change(&changed)
        guard changed != settings, changed.problem == nil else { return }
        settings = changed
        for index in runs.indices {
            let count = visibleCount(of: runs[index])
            let captured = runs[index].rerun(settings: settings, policy: policy, captureIndex: count - 1)
            refreshFigures(of: index, verdict: .some(captured))
        }
        renumberAlerts()
    }

    /// After a re-run every alert is new at once: number them in step order (then run order), the best
    /// guess at the order they happened in, so that later deliveries are newer than all of them.
    private mutating func renumberAlerts() {
        var all: [(step: Int64, run: Int, alert: Int)] = []
        for run in runs.indices {
            for (alert, value) in runs[run].alerts.enumerated() { all.append((value.step, run, alert)) }
        }
        all.sort { a, b in a.step != b.step ? a.step < b.step : runs[a.run].id < runs[b.run].id }
        for entry in all {
            runs[entry.run].renumber(entry.alert, as: alertSequence)
            alertSequence += 1
        }
    }
}
