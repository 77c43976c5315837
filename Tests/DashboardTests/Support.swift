import Dashboard
import Foundation
import KLDetector
import RunLogs
import TestSupport

/// KL series shaped like the demo's runs.
enum Series {
    /// Noise around 0.02, then a spike at `spikeAt` (if any).
    static func healthy(count: Int, seed: UInt64 = 1, spikeAt: Int? = nil, startStep: Int64 = 0)
        -> [MetricSample]
    {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            var value = 0.02 + 0.004 * Double.random(in: -1...1, using: &random)
            if let spikeAt, index == spikeAt { value = 0.2 }
            return MetricSample(step: startStep + Int64(index), value: value)
        }
    }

    /// Slow drift upwards: the rolling baseline follows it, the frozen one catches it.
    static func drift(count: Int, seed: UInt64 = 2) -> [MetricSample] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let value = 0.02 + 0.0002 * Double(index) + 0.002 * Double.random(in: -1...1, using: &random)
            return MetricSample(step: Int64(index) * 10, value: value)
        }
    }
}

extension DashboardState {
    /// Applies events in order and returns every effect.
    @discardableResult
    mutating func send(_ events: DashboardEvent...) -> [DashboardEffect] {
        events.flatMap { update(&self, $0) }
    }

    mutating func press(_ characters: String) {
        for character in characters { _ = update(&self, .keyPressed(.character(character))) }
    }

    /// A state with runs already fed, and a tick so the headers show their figures.
    static func with(
        _ runs: [(name: String, samples: [MetricSample])], settings: DetectorSettings = DetectorSettings(),
        policy: AlertPolicySettings = AlertPolicySettings(), options: ViewOptions = ViewOptions()
    ) -> DashboardState {
        var state = DashboardState(settings: settings, policy: policy, options: options)
        for (index, run) in runs.enumerated() {
            var statistics = ReadStatistics()
            statistics.records = run.samples.count
            statistics.samples = run.samples.count
            state.send(
                .runAdded(RunID(index), name: run.name, source: "/logs/\(run.name).jsonl"),
                .runStatusChanged(RunID(index), .following),
                .samplesAppended(
                    RunID(index), metricKey: "actor/kl_loss", samples: run.samples, statistics: statistics))
        }
        state.send(.tick(time: 100))
        return state
    }
}

extension Grid {
    var text: String { textLines().joined(separator: "\n") }

    /// Whether every row can be written to a terminal as is and comes out exactly `width` columns wide: single
    /// cells hold one-column glyphs, a wide glyph is always followed by its continuation, and a
    /// continuation always follows one.
    var isWellFormed: Bool {
        for y in 0..<height {
            for x in 0..<width {
                let cell = self[x, y]
                switch cell.kind {
                case .single:
                    if !CellWidth.isSingleColumn(cell.glyph) { return false }
                case .wide:
                    if !CellWidth.isWide(cell.glyph.value) || self[x + 1, y].kind != .continuation
                        || x + 1 >= width
                    {
                        return false
                    }
                case .continuation:
                    if x == 0 || self[x - 1, y].kind != .wide { return false }
                }
            }
        }
        return true
    }

    /// Columns each text line takes on a terminal.
    func lineColumns() -> [Int] { textLines().map { CellWidth.columns($0) } }
}
