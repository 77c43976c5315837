import Foundation
import KLDetector
import RunLogs
import Testing

@testable import Dashboard

/// Which alerts the banners show, in which order, and the note that says what they leave out.
@Suite struct BannerTests {
    /// Runs 0…4 each with one spike (a critical), spikes in run order: run 4's is the newest.
    static func fiveSpikedRuns(_ count: Int = 5, width: Int = 120, height: Int = 40) -> DashboardState {
        var state = DashboardState()
        for run in 0..<count {
            state.send(.runAdded(RunID(run), name: "run-\(run)", source: "/logs/run-\(run).jsonl"))
        }
        // Delivered live, one run after the other, as a follower would: run 4's critical comes last.
        for run in 0..<count {
            state.send(
                .samplesAppended(
                    RunID(run), metricKey: "kl",
                    samples: Series.healthy(count: 300, seed: UInt64(run + 1), spikeAt: 200 + 10 * run),
                    statistics: ReadStatistics()))
        }
        state.send(.resized(width: width, height: height), .tick(time: 100))
        return state
    }

    @Test func criticalsComeFirstThenTheNewest() {
        var state = Self.fiveSpikedRuns()
        #expect(state.banners.map(\.run.name) == ["run-4", "run-3", "run-2", "run-1", "run-0"])
        // A warning delivered after every critical still comes after them.
        state.send(.runAdded(RunID(5), name: "warned", source: "/logs/warned.jsonl"))
        let mild = Series.healthy(count: 300, seed: 9).enumerated().map { index, sample in
            MetricSample(step: sample.step, value: index == 250 ? 0.0285 : sample.value)
        }
        state.send(.samplesAppended(RunID(5), metricKey: "kl", samples: mild, statistics: ReadStatistics()))
        #expect(state.banners.last?.run.name == "warned")
        #expect(state.banners.last?.alert.severity == .warning)
    }

    /// The reviewer's case: newer criticals of the last runs were below older ones of the first runs and
    /// left out, with no sign of them.
    @Test(arguments: [(120, 40), (80, 24), (40, 12)])
    func theNewestCriticalIsShownAndTheOthersAreCounted(width: Int, height: Int) {
        let state = Self.fiveSpikedRuns(width: width, height: height)
        let lines = render(state, width: width, height: height).textLines()
        #expect(lines[1].hasPrefix(String("CRITICAL run-4 step 240".prefix(width / 2))), "\(lines[1])")
        let banners = lines.filter { $0.hasPrefix("CRITICAL") }
        let hidden = 5 - banners.count
        #expect(hidden > 0)
        let notes = [
            "[+\(hidden) more runs, a: acknowledge]", "[+\(hidden) more, a: ack]", "[+\(hidden), a]",
        ]
        #expect(notes.contains { lines[1].hasSuffix($0) }, "the note is cut: \(lines[1])")
    }

    @Test func aReRunNumbersAlertsInStepOrderAndLaterDeliveriesAreNewer() {
        var state = Self.fiveSpikedRuns()
        state.press("-")
        #expect(state.banners.first?.run.name == "run-4")
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl",
                samples: Series.healthy(count: 300, seed: 11, spikeAt: 250, startStep: 300),
                statistics: ReadStatistics()))
        #expect(state.banners.first?.run.name == "run-0")
        #expect(state.banners.first?.alert.step == 550)
    }

    @Test func theNoteShortensButNeverDisappears() {
        for width in [200, 120, 80, 40, 20, 12] {
            let note = Renderer.bannerNote(hiddenRuns: 3, width: width)
            #expect(note.contains("+3") && note.contains("a"), "\(width): \(note)")
            #expect(note.unicodeScalars.count <= max(7, width / 2), "\(width): \(note)")
        }
        #expect(Renderer.bannerNote(hiddenRuns: 0, width: 80) == "[a: acknowledge]")
    }

    /// rlwatch's recommended action was cut at 120 and 80 columns and shown nowhere else.
    @Test(arguments: [(120, 40), (100, 30), (80, 24)])
    func theTopBannersActionIsShownWhole(width: Int, height: Int) {
        for runs in [1, 2, 5] {
            let state = Self.fiveSpikedRuns(runs, width: width, height: height)
            let lines = render(state, width: width, height: height).textLines()
            // The banner rows' words, without the note at the end of the top line.
            var top = lines[1]
            if let note = top.range(of: " [", options: .backwards) { top = String(top[..<note.lowerBound]) }
            let bannerText = ([top] + lines.dropFirst(2).prefix(3)).joined(separator: " ")
                .split(separator: " ").joined(separator: " ")
            #expect(
                bannerText.contains(Severity.critical.recommendation),
                "\(width)×\(height):\n\(lines.prefix(5))")
            #expect(lines[1].hasPrefix("CRITICAL run-\(runs - 1) step \(190 + 10 * runs)"))
            if runs > 1 {
                #expect(
                    lines.contains { $0.hasPrefix("CRITICAL run-\(runs - 2)") }, "the next run keeps a line")
            }
        }
    }

    @Test func whenTheActionCannotBeShownWholeEachRunKeepsItsLine() {
        let state = Self.fiveSpikedRuns(width: 40, height: 12)
        let lines = render(state, width: 40, height: 12).textLines()
        #expect(lines[1].hasPrefix("CRITICAL run-4") && lines[2].hasPrefix("CRITICAL run-3"))
        // Alone, the run gets both rows, the action cut with an ellipsis.
        var alone = DashboardState.with([("solo", Series.healthy(count: 300, spikeAt: 250))])
        alone.send(.resized(width: 40, height: 12))
        let soloLines = render(alone, width: 40, height: 12).textLines()
        #expect(soloLines[1].hasPrefix("CRITICAL solo step 250"))
        #expect(soloLines[2].hasPrefix("  ") && soloLines[2].contains("…"), "\(soloLines[2])")
        #expect(soloLines[3].contains("● solo"))
    }
}
