import KLDetector
import RunLogs
import Testing

@testable import Dashboard

/// Rendered grids compared with the golden files in Snapshots/ (see ``Snapshot``).
@Suite struct SnapshotTests {
    static func demo(_ options: ViewOptions = ViewOptions()) -> DashboardState {
        DashboardState.with(
            [
                ("grpo-explosion", Series.healthy(count: 600, spikeAt: 450)),
                ("drift", Series.drift(count: 500)),
            ],
            options: options)
    }

    @Test(arguments: [(160, 50), (120, 40), (80, 24), (40, 12), (20, 6), (1, 1)])
    func twoRuns(width: Int, height: Int) {
        Snapshot.assertMatches(
            render(Self.demo(), width: width, height: height), named: "two-runs-\(width)x\(height)",
            roles: width == 80)
    }

    @Test func asciiGlyphs() {
        Snapshot.assertMatches(
            render(Self.demo(ViewOptions(glyphs: .ascii)), width: 80, height: 24), named: "ascii-80x24")
    }

    @Test func blockGlyphs() {
        Snapshot.assertMatches(
            render(Self.demo(ViewOptions(glyphs: .blocks)), width: 80, height: 24), named: "blocks-80x24")
    }

    @Test func frozenBaselineAfterAcknowledging() {
        var state = Self.demo()
        state.press("ba")
        Snapshot.assertMatches(render(state, width: 80, height: 24), named: "frozen-80x24", roles: true)
    }

    @Test func overlayLogScaleSmoothed() {
        var state = Self.demo()
        state.press("olsa")
        Snapshot.assertMatches(
            render(state, width: 80, height: 24), named: "overlay-log-ema-80x24", roles: true)
    }

    /// The band as a shaded background behind the points, as on a 256-colour terminal.
    @Test func shadedBand() {
        Snapshot.assertMatches(
            render(Self.demo(ViewOptions(shadesBand: true)), width: 80, height: 24),
            named: "shaded-band-80x24",
            roles: true)
    }

    /// The inspect cursor on the spike: a reversed column, both headers read at its step.
    @Test(arguments: [(120, 40), (40, 12)])
    func inspectCursor(width: Int, height: Int) {
        var state = Self.demo(ViewOptions(shadesBand: true))
        _ = update(&state, .resized(width: width, height: height))
        state.press("i")
        for _ in 0..<300 where (state.inspect?.step ?? 0) > 455 { _ = update(&state, .keyPressed(.left)) }
        Snapshot.assertMatches(
            render(state, width: width, height: height), named: "inspect-\(width)x\(height)", roles: true)
    }

    @Test func recentZoom() {
        var state = Self.demo()
        state.press("xa")
        Snapshot.assertMatches(render(state, width: 80, height: 24), named: "recent-80x24")
    }

    @Test func helpAndAlertHistory() {
        var state = Self.demo()
        state.press("?")
        Snapshot.assertMatches(render(state, width: 80, height: 24), named: "help-80x24")
        state.press("?h")
        Snapshot.assertMatches(render(state, width: 80, height: 24), named: "alert-history-80x24")
    }

    @Test func sixteenRuns() {
        let runs = (0..<16).map {
            ("run-\($0)", Series.healthy(count: 300, seed: UInt64($0), spikeAt: $0 % 5 == 0 ? 200 : nil))
        }
        Snapshot.assertMatches(
            render(DashboardState.with(runs), width: 80, height: 24), named: "sixteen-runs-80x24")
    }

    @Test func emptyWaitingAndUnreadable() {
        var state = DashboardState()
        Snapshot.assertMatches(render(state, width: 60, height: 8), named: "empty-60x8")
        state.send(
            .runAdded(RunID(0), name: "not-started", source: "/logs/a.jsonl"),
            .runAdded(RunID(1), name: "locked", source: "/logs/b.jsonl"),
            .runStatusChanged(RunID(1), .unreadable("permission denied")))
        Snapshot.assertMatches(render(state, width: 60, height: 12), named: "waiting-unreadable-60x12")
    }

    /// A TRL GRPO run with beta 0 (its default) logs no KL: the panel says why, as `kltop check` does, and
    /// lists the first of its keys (those of the real run in Fixtures/experiments).
    static func trlBetaZero() -> DashboardState {
        var statistics = ReadStatistics()
        statistics.records = 30
        statistics.keysSeen = [
            "clip_ratio/high_max", "clip_ratio/high_mean", "clip_ratio/low_mean", "clip_ratio/low_min",
            "clip_ratio/region_mean", "completions/clipped_ratio", "completions/max_length",
            "completions/mean_length", "entropy", "epoch", "frac_reward_zero_std", "grad_norm",
            "learning_rate",
            "loss", "num_tokens", "reward", "reward_std", "step",
        ]
        var state = DashboardState()
        state.send(
            .runAdded(RunID(0), name: "grpo_beta0.0_seed0", source: "/runs/grpo_beta0.0_seed0"),
            .samplesAppended(RunID(0), metricKey: nil, samples: [], statistics: statistics))
        return state
    }

    @Test(arguments: [(80, 24), (40, 12)])
    func trlGRPOWithBetaZero(width: Int, height: Int) {
        Snapshot.assertMatches(
            render(Self.trlBetaZero(), width: width, height: height), named: "trl-beta0-\(width)x\(height)")
    }
}
