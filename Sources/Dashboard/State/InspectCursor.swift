import KLDetector

/// The inspect cursor (`i`): a step of the focused run, and what every run showed at that step.
///
/// Readings are taken when the cursor moves, not when a frame is drawn: the detector is replayed from the
/// run's first sample to the cursor's, so the header shows the verdict exactly as it was at that step (the
/// history keeps the band only in Float), and a frame costs nothing more while the cursor stands still.
public struct InspectCursor: Equatable, Sendable {
    /// The step the cursor is on, in the focused run's history.
    public var step: Int64
    /// What each run showed at the cursor: its last sample at or before ``step``.
    public var readings: [RunID: Reading]

    public struct Reading: Equatable, Sendable {
        /// The run's history index.
        public var index: Int
        public var step: Int64
        public var value: Double
        /// The detector's verdict on that sample (nil while it warms up, or with the detector off).
        public var verdict: StepVerdict?
    }
}

extension RunHistory {
    /// The last index whose step is at most `step` (steps only grow in a run's history), nil when the first
    /// step is already beyond it.
    func lastIndex(atOrBefore step: Int64, count: Int) -> Int? {
        var low = 0
        var high = min(count, self.count)
        while low < high {
            let middle = (low + high) / 2
            if self.step(at: middle) <= step { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? low - 1 : nil
    }

    /// Of the indices in `range`, the one the cursor lands on: the most severe verdict, then the highest
    /// value, so that moving onto a column with a spike reads the spike.
    func mostTelling(in range: Range<Int>) -> Int? {
        var best: Int?
        for index in range {
            guard let current = best else {
                best = index
                continue
            }
            let (status, bestStatus) = (self.status(at: index), self.status(at: current))
            let value = self.value(at: index)
            let bestValue = self.value(at: current)
            if status > bestStatus || (status == bestStatus && value > bestValue) { best = index }
            if bestValue.isNaN && !value.isNaN && status == bestStatus { best = index }
        }
        return best
    }
}

extension DashboardState {
    /// Puts the cursor on the focused run's last shown sample; nothing when it has none.
    mutating func enterInspect() {
        guard let run = focusedRun, visibleCount(of: run) > 0 else { return }
        inspect = InspectCursor(step: run.history.step(at: visibleCount(of: run) - 1), readings: [:])
        takeReadings()
    }

    /// Moves the cursor `columns` cell columns of the focused run's plot, as wide as the screen makes it.
    mutating func moveInspect(byColumns columns: Int) {
        guard let cursor = inspect, let run = focusedRun else { return }
        let count = visibleCount(of: run)
        guard count > 0 else { return }
        let across = options.glyphs.dotsAcross
        let longest = options.layout == .overlay ? runs.map { visibleCount(of: $0) }.max() ?? count : count
        let scale = Renderer.xScale(
            count: longest, screenWidth: size.width, options: options, settings: settings)
        let index = run.history.lastIndex(atOrBefore: cursor.step, count: count) ?? 0
        let visible = scale.visibleRange(count: count)
        let cell = (scale.column(ofIndex: min(max(index, visible.lowerBound), count - 1)) ?? 0) / across
        let lastCell = ((scale.column(ofIndex: count - 1) ?? 0) / across)
        let target = min(max(0, cell + columns), lastCell)
        let first = scale.range(ofColumn: target * across).lowerBound
        let end = min(count, scale.range(ofColumn: target * across + across - 1).upperBound)
        guard let landing = run.history.mostTelling(in: first..<max(first, end)) else { return }
        inspect?.step = run.history.step(at: landing)
        takeReadings()
    }

    /// Every run's sample at the cursor's step, with the detector replayed up to it under today's settings.
    mutating func takeReadings() {
        guard var cursor = inspect else { return }
        cursor.readings = [:]
        for run in runs {
            let count = visibleCount(of: run)
            guard let index = run.history.lastIndex(atOrBefore: cursor.step, count: count) else { continue }
            var detector = KLExplosionDetector(settings: settings)
            var verdict: StepVerdict?
            for position in 0...index {
                verdict = detector.check(
                    step: run.history.step(at: position), value: run.history.value(at: position))
            }
            cursor.readings[run.id] = InspectCursor.Reading(
                index: index, step: run.history.step(at: index), value: run.history.value(at: index),
                verdict: verdict)
        }
        inspect = cursor
    }
}
