import KLDetector
import RunLogs
import Testing

@testable import Dashboard

@Suite struct UpdateTests {
    static let spiky = Series.healthy(count: 600, spikeAt: 300)

    @Test func qQuitsFromEveryScreen() {
        var state = DashboardState()
        #expect(state.send(.keyPressed(.character("q"))) == [.quit])
        state.press("?")
        #expect(state.screen == .help)
        #expect(state.send(.keyPressed(.character("q"))) == [.quit])
        state.send(.keyPressed(.escape))
        state.press("h")
        #expect(state.screen == .alertHistory)
        #expect(state.send(.keyPressed(.character("q"))) == [.quit])
        state.press("h")
        #expect(state.screen == .runs)
    }

    @Test func aDeliveredAlertRingsTheBellOnce() {
        var state = DashboardState()
        state.send(.runAdded(RunID(0), name: "a", source: "a.jsonl"))
        let effects = state.send(
            .samplesAppended(RunID(0), metricKey: "kl", samples: Self.spiky, statistics: ReadStatistics()))
        #expect(effects.first == .bell(.critical))
        guard case .alertsDelivered(_, let alerts)? = effects.last else {
            Issue.record("no alertsDelivered effect: \(effects)")
            return
        }
        #expect(alerts.map(\.severity).contains(.critical))
        #expect(state.runs[0].alerts.map(\.step) == [300])
        let two = Series.healthy(count: 200, spikeAt: 150, startStep: 600).map {
            MetricSample(step: $0.step, value: $0.step == 750 ? 0.2 : $0.value)
        }
        var twoAlerts = DashboardState(policy: AlertPolicySettings(cooldownSteps: 0))
        twoAlerts.send(.runAdded(RunID(0), name: "a", source: "a.jsonl"))
        let both = twoAlerts.send(
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: Self.spiky + two, statistics: ReadStatistics()))
        #expect(twoAlerts.runs[0].alerts.count >= 2)
        #expect(
            both.filter { if case .bell = $0 { true } else { false } } == [.bell(.critical)],
            "one bell per batch")
    }

    @Test func sigmaKeysRerunTheDetectorOverTheWholeHistory() {
        var state = DashboardState.with([("a", Series.drift(count: 2000))])
        let before = state.runs[0].alerts
        state.press("--")
        #expect(state.settings.sigmaMultiplier == 2)
        let expected = Self.ingested(Series.drift(count: 2000), DetectorSettings(sigmaMultiplier: 2))
        #expect(state.runs[0].alerts == expected.alerts)
        #expect(state.runs[0].alerts != before)
        for index in stride(from: 0, to: 2000, by: 7) {
            #expect(state.runs[0].history.status(at: index) == expected.history.status(at: index))
        }
        #expect(state.runs[0].figures.verdict == expected.lastVerdict)
    }

    @Test func windowWarmupAndBaselineKeysStepThroughTheirValues() {
        var state = DashboardState()
        state.press("]")
        #expect(state.settings.rollingWindow == 150)
        state.press("[[")
        #expect(state.settings.rollingWindow == 75)
        state.press("w")
        #expect(state.settings.warmupSteps == 50)
        state.press("b")
        #expect(state.settings.baselineMode == .frozen)
        state.press("++")
        #expect(state.settings.sigmaMultiplier == 4)
        for _ in 0..<50 { state.press("-") }
        #expect(state.settings.sigmaMultiplier == 0.5)
        for _ in 0..<20 { state.press("[") }
        #expect(state.settings.rollingWindow == 10)
    }

    @Test func frozenBaselineAfterBLocksAndIsShown() {
        var state = DashboardState.with([("drift", Series.drift(count: 1000))])
        state.press("b")
        let run = state.runs[0]
        #expect(run.frozenLockIndex == 99)  // the window of 100 first fills at the 100th sample
        #expect(run.figures.frozenBaseline?.lockedAtStep == 990)
        #expect(run.alerts.count > Self.ingested(Series.drift(count: 1000), DetectorSettings()).alerts.count)
    }

    @Test func bannersStayUntilAcknowledgedAndAcknowledgementsSurviveAReRun() {
        var state = DashboardState.with([("a", Self.spiky)])
        #expect(state.banners.count == 1)
        #expect(state.banners.first?.alert.step == 300)
        state.press("a")
        #expect(state.banners.isEmpty)
        #expect(state.alertHistory.map(\.isAcknowledged) == [true])
        state.press("-")  // sigma 2.5: the spike is delivered again, plus new warnings
        #expect(state.alertHistory.contains { $0.alert.step == 300 && $0.isAcknowledged })
        #expect(state.banners.allSatisfy { $0.alert.step != 300 || $0.alert.severity != .critical })
    }

    /// The alert policy (cooldown and maximum, from rlwatch.yaml or the flags) decides which alerts reach the
    /// dashboard, as it does for `kltop check`, and still does after a re-run.
    @Test func theAlertPolicyDecidesWhichAlertsAreDelivered() {
        var samples = Series.healthy(count: 700)
        for spike in [300, 350, 500] { samples[spike] = MetricSample(step: Int64(spike), value: 0.2) }
        func criticalSteps(_ state: DashboardState) -> [Int64] {
            state.alertHistory.filter { $0.alert.severity == .critical }.map(\.alert.step).sorted()
        }
        // rlwatch's default cooldown of 100 steps: the spike at 350 falls in the one at 300 started.
        #expect(criticalSteps(DashboardState.with([("a", samples)])) == [300, 500])
        let noCooldown = DashboardState.with([("a", samples)], policy: AlertPolicySettings(cooldownSteps: 0))
        #expect(criticalSteps(noCooldown) == [300, 350, 500])
        var capped = DashboardState.with(
            [("a", samples)], policy: AlertPolicySettings(cooldownSteps: 0, maxAlertsPerRun: 1))
        #expect(criticalSteps(capped) == [300] && capped.alertHistory.count == 1)
        #expect(capped.banners.count == 1)
        capped.press("-")  // a re-run at σ 2.5 raises more alerts; still one is delivered
        #expect(capped.alertHistory.count == 1)
    }

    @Test func criticalBannersComeFirst() {
        var state = DashboardState.with([("warns", Series.drift(count: 600)), ("spikes", Self.spiky)])
        let severities = state.banners.map(\.alert.severity)
        #expect(severities == severities.sorted(by: >))
        #expect(state.banners.first?.run.name == "spikes")
        state.press("a")
        #expect(state.banners.isEmpty)
    }

    @Test func pauseFreezesTheViewAndKeepsReading() {
        var state = DashboardState.with([("a", Series.healthy(count: 100))])
        state.press("p")
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: Series.healthy(count: 50, startStep: 100),
                statistics: ReadStatistics()),
            .tick(time: 200))
        #expect(state.runs[0].history.count == 150)
        #expect(state.visibleCount(of: state.runs[0]) == 100)
        #expect(state.runs[0].figures.step == 99)
        #expect(state.samplesSincePause == 50)
        let paused = render(state, width: 80, height: 24)
        #expect(paused.textLines()[0].contains("PAUSED +50"))
        state.press("p")
        #expect(state.runs[0].figures.step == 149)
        #expect(state.visibleCount(of: state.runs[0]) == 150)
    }

    @Test func aReRunWhilePausedKeepsThePausedStep() {
        var state = DashboardState.with([("a", Series.healthy(count: 300))])
        state.press("p")
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: Series.healthy(count: 50, startStep: 300),
                statistics: ReadStatistics()))
        state.press("+")
        #expect(state.runs[0].figures.step == 299)
        let expected = Self.ingested(Series.healthy(count: 300), DetectorSettings(sigmaMultiplier: 3.5))
        #expect(state.runs[0].figures.verdict == expected.lastVerdict)
    }

    @Test func headerFiguresRefreshOnTicksAtMostEveryInterval() {
        var state = DashboardState.with([("a", Series.healthy(count: 10))])
        #expect(state.runs[0].figures.step == 9)
        func append(_ step: Int64) {
            state.send(
                .samplesAppended(
                    RunID(0), metricKey: "kl", samples: [MetricSample(step: step, value: 0.02)],
                    statistics: ReadStatistics()))
        }
        append(10)
        #expect(state.runs[0].figures.step == 9, "a sample alone does not rewrite the header")
        state.send(.tick(time: 100.1))
        #expect(state.runs[0].figures.step == 9, "0.1 s after the last refresh: too soon")
        state.send(.tick(time: 100.3))
        #expect(state.runs[0].figures.step == 10)
        append(11)
        state.send(.tick(time: 100.4))
        #expect(state.runs[0].figures.step == 10)
        state.send(.tick(time: 100.6))
        #expect(state.runs[0].figures.step == 11)
    }

    @Test func aTickAsksForAFrameOnlyWhenAFigureChanged() {
        // Warming up (NaN mean) and a NaN KL: neither may look like a change on every tick.
        var samples = Series.healthy(count: 5)
        samples.append(MetricSample(step: 5, value: .nan))
        var state = DashboardState.with([("quiet", samples), ("calm", Series.healthy(count: 300))])
        _ = state.send(.tick(time: 100), .tick(time: 101.5))
        #expect(state.send(.tick(time: 103)).isEmpty, "silent runs: nothing changed, no frame")
        #expect(state.send(.tick(time: 105)).isEmpty)
        state.send(
            .samplesAppended(
                RunID(1), metricKey: "kl", samples: [MetricSample(step: 300, value: 0.02)],
                statistics: ReadStatistics()))
        #expect(state.send(.tick(time: 105.5)) == [.figuresChanged], "a new step changes the header")
        #expect(state.send(.tick(time: 106.2)) == [.figuresChanged], "and then its steps per second")
        #expect(state.send(.tick(time: 107.5)) == [.figuresChanged], "which fall back to 0")
        #expect(state.send(.tick(time: 109)).isEmpty, "quiet again")
    }

    @Test func stepsPerSecondAreMeasuredOverTickTime() {
        var state = DashboardState.with([("a", Series.healthy(count: 10))])
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: Series.healthy(count: 40, startStep: 10),
                statistics: ReadStatistics()),
            .tick(time: 102))
        #expect(state.runs[0].figures.stepsPerSecond == 20)
    }

    @Test func focusCyclesBothWays() {
        var state = DashboardState.with([("a", []), ("b", []), ("c", [])])
        state.send(.keyPressed(.tab))
        #expect(state.focus == 1)
        state.send(.keyPressed(.backTab), .keyPressed(.backTab))
        #expect(state.focus == 2)
        state.send(.keyPressed(.down))
        #expect(state.focus == 0)
    }

    @Test func viewKeysToggleTheirOptions() {
        var state = DashboardState()
        state.press("lsxo")
        #expect(state.options.logScale && state.options.smoothing == 0.6)
        #expect(state.options.zoom == .recent && state.options.layout == .overlay)
        state.press("sss")
        #expect(state.options.smoothing == 0)
    }

    @Test func logStringsAreStoredInert() {
        var state = DashboardState()
        state.send(
            .runAdded(RunID(0), name: "run\u{1B}]0;pwned\u{7}", source: "/tmp/\u{1B}[2J.jsonl"),
            .runStatusChanged(RunID(0), .unreadable("bad\u{1B}[31m")),
            .samplesAppended(RunID(0), metricKey: "kl\u{9B}1m", samples: [], statistics: ReadStatistics()))
        let run = state.runs[0]
        #expect(run.name == "run\\e]0;pwned\\x07")
        #expect(run.source == "/tmp/\\e[2J.jsonl")
        #expect(run.metricKey == "kl\\u{9b}1m")
        #expect(run.sourceStatus == .unreadable("bad\\e[31m"))
    }

    /// A run's alerts and history as fed from the start with `settings`.
    static func ingested(_ samples: [MetricSample], _ settings: DetectorSettings) -> RunState {
        var state = DashboardState(settings: settings)
        state.send(
            .runAdded(RunID(0), name: "x", source: "x"),
            .samplesAppended(RunID(0), metricKey: "kl", samples: samples, statistics: ReadStatistics()))
        return state.runs[0]
    }
}

@Suite struct RecordedAlertsTests {
    @Test func rlwatchsOwnAlertsAreListedBesideKltopsInTheHistoryAndNeverAsBanners() {
        var state = DashboardState()
        state.send(.runAdded(RunID(0), name: "ppo", source: "metrics.db"))
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl_divergence", samples: Series.healthy(count: 200, spikeAt: 150),
                statistics: ReadStatistics()))
        state.send(
            .recordedAlertsAppended(
                RunID(0),
                [
                    RlwatchStoredAlert(
                        run: "ppo", step: 100, detector: "gradient_norm_spike", severity: "critical",
                        message: "Gradient norm spike \u{1B}]2;title\u{07}")
                ]))
        #expect(state.runs[0].recordedAlerts.count == 1)
        #expect(state.banners.allSatisfy { $0.alert.step != 100 })
        state.press("h")
        let text = render(state, width: 140, height: 30).textLines().joined(separator: "\n")
        #expect(text.contains("Recorded by rlwatch"))
        #expect(text.contains("gradient_norm_spike"))
        #expect(text.contains("Gradient norm spike \\e]2;title\\x07"), "shown inert")
        #expect(!text.contains("\u{1B}"))
    }
}

@Suite struct RunSourcesTests {
    /// A run found in two logs: f shows the other one's series, with the detector re-run over it, and
    /// nothing delivered for it; f again comes back.
    @Test func fSwitchesToTheRunsOtherSourceAndBack() throws {
        var state = DashboardState()
        state.send(.runAdded(RunID(0), name: "grpo", source: "out/grpo"))
        state.send(
            .sourcesListed(
                RunID(0),
                paths: [
                    "out/grpo/checkpoint-30/trainer_state.json", "out/grpo/runs/x/events.out.tfevents.1.h",
                ], primary: 0))
        let quiet = Series.healthy(count: 200)
        let spiky = Series.healthy(count: 300, spikeAt: 250)
        state.send(.samplesAppended(RunID(0), metricKey: "kl", samples: quiet, statistics: ReadStatistics()))
        let effects = state.send(
            .sourceSamplesAppended(
                RunID(0), source: 1, metricKey: "train/kl", samples: spiky, statistics: ReadStatistics()))
        #expect(effects.isEmpty, "the other source's alerts are not delivered")
        #expect(state.runs[0].history.count == 200 && state.runs[0].alerts.isEmpty)
        let header = render(state, width: 120, height: 24).textLines()[1]
        #expect(header.contains("from checkpoint-30/trainer_state.json +1"), "\(header)")
        let switched = state.send(.keyPressed(.character("f")))
        #expect(switched.isEmpty)
        #expect(state.runs[0].history.count == 300 && state.runs[0].metricKey == "train/kl")
        #expect(state.runs[0].alerts.map(\.step).contains(250))
        // Samples keep going where they belong while the other source is shown.
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: Series.healthy(count: 10, startStep: 200),
                statistics: ReadStatistics()))
        #expect(state.runs[0].history.count == 300)
        state.press("f")
        #expect(
            state.runs[0].history.count == 210 && state.runs[0].metricKey == "kl"
                && state.runs[0].alerts.isEmpty)
    }

    @Test func longNamesAreElidedInTheMiddleSoTheirEndsStayApart() {
        let a = Fit.elideMiddle("sb3_ppo_cartpole_jump5e-2_at50pct", to: 16)
        let b = Fit.elideMiddle("sb3_ppo_cartpole_jump5e-2_at75pct", to: 16)
        #expect(a != b && a.hasPrefix("sb3_ppo") && a.hasSuffix("at50pct") && a.unicodeScalars.count == 16)
        #expect(Fit.elideMiddle("short", to: 16) == "short")
    }
}

@Suite struct SweepTests {
    static func sweep() -> DashboardState {
        var runs = (0..<40).map { ("lr1e-\($0 % 4)/seed\($0)", Series.healthy(count: 200, seed: UInt64($0))) }
        runs[23].1 = Series.healthy(count: 300, seed: 23, spikeAt: 250)
        return DashboardState.with(runs)
    }

    @Test func theWorstRunIsFocusedAndListedFirstUntilAFocusKeyIsPressed() {
        var state = Self.sweep()
        #expect(state.focusedRun?.name == "lr1e-3/seed23")
        #expect(state.runOrder.first == state.focus)
        #expect(state.severityCounts.critical == 1 && state.severityCounts.quiet == 39)
        let text = render(state, width: 80, height: 24).textLines()
        #expect(text[0].contains("1 crit") && text[0].contains("39 ok"), "\(text[0])")
        state.press("r")
        #expect(state.order == .name && state.focusedRun?.name == "lr1e-0/seed0")
        state.send(.keyPressed(.tab))
        let pinned = state.focus
        state.press("r")
        #expect(state.focus == pinned, "a focus key pins the focus")
    }

    @Test func slashFiltersRunsByNameAndEscClearsIt() {
        var state = Self.sweep()
        state.press("/seed1")
        #expect(state.isTypingFilter && state.runOrder.count == 11)  // seed1, seed10 … seed19
        state.send(.keyPressed(.backspace), .keyPressed(.character("5")))
        state.send(.keyPressed(.enter))
        #expect(!state.isTypingFilter && state.runOrder.map { state.runs[$0].name } == ["lr1e-1/seed5"])
        #expect(state.focusedRun?.name == "lr1e-1/seed5", "the focus moves to a run that is shown")
        let text = render(state, width: 80, height: 24).textLines()
        #expect(text[0].contains("/seed5 1/40"), "\(text[0])")
        // The critical run is out of the list, but its banner stays: a filter never hides an alert.
        #expect(
            !text.contains { $0.hasPrefix("● lr1e-3/seed23") } && text[1].contains("CRITICAL lr1e-3/seed23"))
        state.press("q")  // q quits only outside the filter: here it is a command again
        state.send(.keyPressed(.escape))
        #expect(state.filter.isEmpty && state.runOrder.count == 40)
        state.press("/zzz")
        #expect(
            render(state, width: 80, height: 24).textLines().contains {
                $0.contains("no run name holds \"zzz\"")
            })
    }

    @Test func pageKeysMoveTheFocusAPageAndTheListFollows() {
        var state = Self.sweep()
        state.press("r")
        state.send(.resized(width: 80, height: 24), .keyPressed(.pageDown))
        #expect(state.focusedRun?.name == state.runs[state.runOrder[21]].name)
        let lines = render(state, width: 80, height: 24).textLines()
        #expect(lines.contains { $0.contains(state.runs[state.runOrder[22]].name) }, "\(lines)")
        state.send(.keyPressed(.pageUp), .keyPressed(.pageUp))
        #expect(state.focus == state.runOrder[0])
    }
}

@Suite struct StaleRunTests {
    @Test func aSilentRunIsMarkedStaleInItsHeaderAndCountedThenNotWhenItLogsAgain() {
        var state = DashboardState()
        state.send(
            .runAdded(RunID(0), name: "quiet", source: "q.jsonl"),
            .runAdded(RunID(1), name: "busy", source: "b.jsonl"))
        var step: Int64 = 0
        func feed(_ run: Int, at time: Double) {
            state.send(.tick(time: time))
            state.send(
                .samplesAppended(
                    RunID(run), metricKey: "kl", samples: [MetricSample(step: step, value: 0.02)],
                    statistics: ReadStatistics()))
            step += 1
        }
        for second in stride(from: 0.0, through: 20, by: 2) {
            feed(0, at: second)
            feed(1, at: second)
        }
        for second in stride(from: 22.0, through: 200, by: 2) { feed(1, at: second) }
        state.send(.tick(time: 201))
        #expect(state.runs[0].isStale && !state.runs[1].isStale)
        let lines = render(state, width: 100, height: 24).textLines()
        #expect(lines[0].contains("1 stale"), "\(lines[0])")
        #expect(lines.contains { $0.contains("quiet") && $0.contains("stale: silent 3 min") }, "\(lines)")
        feed(0, at: 202)
        #expect(!state.runs[0].isStale)
    }

    @Test func aFinishedRunSaysSoAndIsNeverStale() {
        var state = DashboardState()
        state.send(.runAdded(RunID(0), name: "done", source: "d"), .tick(time: 0))
        var statistics = ReadStatistics()
        statistics.runFinished = true
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: Series.healthy(count: 50), statistics: statistics))
        state.send(.tick(time: 10_000))
        #expect(!state.runs[0].isStale)
        #expect(render(state, width: 100, height: 24).textLines()[1].contains("finished"))
    }
}
