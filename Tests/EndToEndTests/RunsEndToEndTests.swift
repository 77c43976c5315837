import Foundation
import TestSupport
import Testing

/// The dashboard on folders of runs, as a person sees it in tmux: the experiments folder the frameworks
/// wrote (one entry per training run, its source and the f key, names at several widths) and a sweep of
/// 256 runs (the worst one first, counts, the filter, paging).
@Suite(.serialized) struct RunsEndToEndTests {
    static let kltop = Kltop.executable.path
    static let outputs = Fixtures.path("experiments/outputs")
    static let runs = [
        "grpo_beta0.04_seed0", "grpo_beta0.04_seed1", "sb3_ppo_cartpole_lr1e-3", "sb3_ppo_cartpole_lr3e-4",
        "lightning_run", "qwen2_7b_grpo_kl0.001", "qwen2_7b_grpo_kl0.01",
    ]

    /// The names at the start of run headers and list lines (`● name  …`).
    static func names(_ screen: [String]) -> [String] {
        screen.filter { $0.hasPrefix("● ") }.map { String($0.dropFirst(2).prefix { $0 != " " }) }
    }

    static func type(_ text: String, in tmux: TmuxSession) throws {
        for character in text { try tmux.press(String(character)) }
    }

    @Test func aFolderOfTrainingRunsShowsEachRunOnceWithItsFullName() throws {
        let tmux = try TmuxSession(width: 160, height: 50)
        try tmux.run("\(Self.kltop) \(Self.outputs)")
        #expect(
            tmux.waitForScreen(timeout: 15) { Set(Self.names($0)) == Set(Self.runs) }, "\(tmux.screen())")
        let screen = tmux.screen()
        #expect(Self.names(screen).count == Self.runs.count, "each run once: \(screen)")
        #expect(!screen.joined().contains("waiting for the file"))
        #expect(!screen.joined().contains("beta0.0_"), "the run that logs no KL is not a run")
        try tmux.press("q")
    }

    @Test func theSourceIsSaidAndFSwitchesToAnotherOfTheRunsLogs() throws {
        let tmux = try TmuxSession(width: 120, height: 40)
        try tmux.run("\(Self.kltop) \(Self.outputs)")
        #expect(
            tmux.waitForScreen(timeout: 15) { Self.names($0).count == Self.runs.count }, "\(tmux.screen())")
        try tmux.press("/")
        try Self.type("lr3e-4", in: tmux)
        try tmux.press("Enter")
        #expect(
            tmux.waitForScreen(timeout: 5) {
                Self.names($0) == ["sb3_ppo_cartpole_lr3e-4"] && $0.joined().contains("from progress.csv +3")
            }, "\(tmux.screen())")
        try tmux.press("f")
        // The TensorBoard events: float32, the same run.
        #expect(
            tmux.waitForScreen(timeout: 5) { $0.joined().contains("from events.out") }, "\(tmux.screen())")
        try tmux.press("f")
        #expect(
            tmux.waitForScreen(timeout: 5) { $0.joined().contains("from progress.json +3") },
            "\(tmux.screen())")
        try tmux.press("Escape")
        #expect(
            tmux.waitForScreen(timeout: 5) { Self.names($0).count == Self.runs.count }, "\(tmux.screen())")
        try tmux.press("q")
    }

    /// At 80×24 the runs are a panel and a list of 16-column labels: each label different from the others.
    @Test(arguments: [(80, 24), (40, 12)])
    func narrowLabelsStayDifferent(width: Int, height: Int) throws {
        let tmux = try TmuxSession(width: width, height: height)
        try tmux.run("\(Self.kltop) \(Self.outputs)")
        // A panel and a list line for each run that fits (the list's last line counts the others).
        #expect(tmux.waitForScreen(timeout: 15) { Self.names($0).count >= min(Self.runs.count, height - 8) })
        let labels = Self.names(tmux.screen())
        #expect(labels.count == Set(labels).count, "\(tmux.screen())")
        try tmux.press("q")
    }

    /// 256 runs in one folder, one of which explodes: it is the focused panel, the counts say so, the
    /// filter finds runs by name, PgDn pages.
    @Test func aSweepOf256RunsOpensOnItsWorstRun() throws {
        let root = try TemporaryDirectory.make("kltop-sweep")
        for index in 0..<256 {
            let folder = root.appendingPathComponent("sweep/lr\(index % 8)/seed\(index)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let lines = (0..<200).map { step -> String in
                let value =
                    index == 137 && step == 150 ? 5.0 : 0.02 + 0.001 * Double((step * 37 + index) % 11)
                return "{\"step\": \(step), \"kl\": \(value)}"
            }
            try (lines.joined(separator: "\n") + "\n").write(
                to: folder.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        }
        let tmux = try TmuxSession(width: 80, height: 24)
        try tmux.run("\(Self.kltop) \(root.appendingPathComponent("sweep").path)")
        #expect(
            tmux.waitForScreen(timeout: 30) { $0.first?.contains("1 crit 255 ok") == true },
            "\(tmux.screen())")
        #expect(
            tmux.waitForScreen(timeout: 5) { Self.names($0).first == "seed137" },
            "the worst first: \(tmux.screen())")
        try tmux.press("/")
        try Self.type("seed25", in: tmux)
        // seed25 and seed250 … seed255
        #expect(
            tmux.waitForScreen(timeout: 5) {
                $0.first?.contains("/seed25") == true && $0.first?.contains("7/256") == true
            }, "\(tmux.screen())")
        try tmux.press("Escape")
        try tmux.press("r")  // by name: a stable order to page through
        #expect(tmux.waitForScreen(timeout: 5) { $0.first?.contains("by name") == true }, "\(tmux.screen())")
        let before = Self.names(tmux.screen()).first
        try tmux.press("NPage")
        #expect(
            tmux.waitForScreen(timeout: 5) { Self.names($0).first != before && Self.names($0).count > 10 },
            "\(tmux.screen())")
        try tmux.press("q")
    }
}
