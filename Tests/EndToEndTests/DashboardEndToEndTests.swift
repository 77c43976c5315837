import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real binary in a real terminal (tmux): steps arriving, banners, tuning keys, resizing, and the
/// terminal given back clean.
@Suite(.serialized) struct DashboardEndToEndTests {
    static let kltop = Kltop.executable.path

    static func calmLines(_ steps: Range<Int>) -> String {
        steps.map { "{\"step\": \($0), \"kl\": \(0.02 + Double(($0 * 37) % 11) * 0.0005)}\n" }.joined()
    }

    static func append(_ text: String, to path: URL) throws {
        let handle = try FileHandle(forWritingTo: path)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    @Test func startsOnAnEmptyFileAndShowsStepsAsTheyArrive() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        let log = tmux.directory.appendingPathComponent("grpo.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        try tmux.run("\(Self.kltop) grpo.jsonl")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("grpo") }, "\(tmux.screen())")
        try Self.append(Self.calmLines(0..<40), to: log)
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("step 39") }, "\(tmux.screen())")
        try Self.append(Self.calmLines(40..<80), to: log)
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("step 79") }, "\(tmux.screen())")
        try tmux.press("q")
    }

    @Test func aSpikeRaisesACriticalBannerThatStaysUntilAcknowledged() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        let log = tmux.directory.appendingPathComponent("ppo.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: Data(Self.calmLines(0..<150).utf8))
        try tmux.run("\(Self.kltop) ppo.jsonl")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("step 149") })
        #expect(!tmux.screen().contains { $0.hasPrefix("CRITICAL") })
        try Self.append("{\"step\": 150, \"kl\": 5.0}\n" + Self.calmLines(151..<160), to: log)
        let banner = tmux.waitForScreen(timeout: 10) { lines in
            lines.contains { $0.hasPrefix("CRITICAL") && $0.contains("ppo") && $0.contains("step 150") }
        }
        #expect(banner, "\(tmux.screen())")
        #expect(tmux.screen().joined().contains("Immediately reduce learning rate"))
        try tmux.press("a")
        #expect(
            tmux.waitForScreen(timeout: 5) { !$0.contains { $0.hasPrefix("CRITICAL") } }, "\(tmux.screen())")
        try tmux.press("q")
    }

    /// A log whose window is exactly mean 0.02, σ 0.002 (values alternating 0.018 and 0.022), with one bump
    /// at step 250 of z = 4.05: a warning at σ 3, a critical at σ 2.5, nothing at σ 4.5.
    static func bumpLines() -> String {
        (0..<300).map { step in
            let value = step == 250 ? 0.0281 : (step % 2 == 0 ? 0.018 : 0.022)
            return "{\"step\": \(step), \"kl\": \(value)}\n"
        }.joined()
    }

    /// The panel's plot rows (between its header and its x axis).
    static func plotRows(_ screen: [String]) -> [String] {
        guard let header = screen.firstIndex(where: { $0.hasPrefix("● bump") }) else { return [] }
        return Array(screen[(header + 1)...].prefix { !$0.contains("└") })
    }

    /// Rows of the plot where the band (`·`) shows and no data point does: the band is mean ± k·σ, the
    /// points keep within ±σ, so the larger k, the more such rows.
    static func bandOnlyRows(_ screen: [String]) -> Int {
        plotRows(screen).filter { line in
            line.contains("·") && !line.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }
        }.count
    }

    /// The keys change the detector on the whole history: what shows is the band drawn at another height,
    /// the banners another severity or gone, the frozen baseline drawn; not only the status bar's figures.
    @Test func tuningKeysChangeTheBandTheBannersAndTheBaseline() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        let log = tmux.directory.appendingPathComponent("bump.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: Data(Self.bumpLines().utf8))
        // Without colour the band is text (`·`) that the screen's rows show; the shaded band of a colour
        // terminal is checked in DashboardOptionsEndToEndTests.
        try tmux.run("\(Self.kltop) --no-color bump.jsonl")
        #expect(
            tmux.waitForScreen(timeout: 10) { $0.contains { $0.hasPrefix("WARNING bump step 250") } },
            "\(tmux.screen())")
        let atThree = tmux.screen()
        #expect(!atThree.contains { $0.hasPrefix("CRITICAL") })
        #expect(Self.bandOnlyRows(atThree) > 0, "no band drawn: \(atThree)")

        try tmux.press("-")
        #expect(
            tmux.waitForScreen(timeout: 5) { $0.contains { $0.hasPrefix("CRITICAL bump step 250") } },
            "\(tmux.screen())")
        #expect(tmux.screen().first?.contains("σ 2.5") == true)
        // Acknowledged, the banners go: the panel has the same rows at every σ from here on.
        try tmux.press("a")
        #expect(
            tmux.waitForScreen(timeout: 5) { !$0.contains { $0.hasPrefix("CRITICAL") } }, "\(tmux.screen())")
        Thread.sleep(forTimeInterval: 0.3)
        let atTwoAndAHalf = tmux.screen()
        #expect(atTwoAndAHalf.joined().contains("+2.5σ"))

        try tmux.press("+", "+", "+", "+")
        #expect(tmux.waitForScreen(timeout: 5) { $0.first?.contains("σ 4.5") == true }, "\(tmux.screen())")
        Thread.sleep(forTimeInterval: 0.3)
        let atFourAndAHalf = tmux.screen()
        #expect(!atFourAndAHalf.contains { $0.hasPrefix("CRITICAL") || $0.hasPrefix("WARNING") })
        #expect(atFourAndAHalf.joined().contains("+4.5σ"))
        #expect(Self.plotRows(atFourAndAHalf).count == Self.plotRows(atTwoAndAHalf).count)
        // A wider band around the same points: more rows of band alone.
        #expect(
            Self.bandOnlyRows(atFourAndAHalf) > Self.bandOnlyRows(atTwoAndAHalf),
            "\(Self.plotRows(atTwoAndAHalf).joined(separator: "\n"))\n\(Self.plotRows(atFourAndAHalf).joined(separator: "\n"))"
        )

        // b: the frozen baseline, locked when the window of 100 first filled (step 99), drawn as a line
        // with a mark on the x axis.
        try tmux.press("b")
        #expect(
            tmux.waitForScreen(timeout: 5) { $0.joined().contains("frozen@99") }, "\(tmux.screen())")
        let frozen = tmux.screen()
        #expect(Self.plotRows(frozen).contains { $0.contains("═") }, "\(frozen)")
        #expect(frozen.contains { $0.contains("└") && $0.contains("▲") }, "\(frozen)")
        try tmux.press("]")
        #expect(tmux.waitForScreen(timeout: 5) { $0.first?.contains("window 150") == true })
        try tmux.press("q")
    }

    @Test func resizingDownToTinyPanesNeverCrashes() throws {
        let tmux = try TmuxSession(width: 120, height: 40)
        let errors = tmux.directory.appendingPathComponent("stderr").path
        try tmux.run("\(Self.kltop) demo --speed 50 2>\(errors); echo EXIT=$?")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("healthy") })
        for (width, height) in [(40, 12), (20, 6), (1, 1), (3, 2), (80, 24)] {
            try tmux.resize(width: width, height: height)
            Thread.sleep(forTimeInterval: 0.4)
            let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            #expect(stderr.isEmpty, "kltop failed at \(width)×\(height): \(stderr)")
        }
        try tmux.resize(width: 40, height: 12)
        #expect(tmux.waitForScreen(timeout: 5) { $0.first?.contains("kltop") == true }, "\(tmux.screen())")
        #expect(tmux.screen().count >= 12 && tmux.screen().allSatisfy { $0.count <= 40 })
        try tmux.press("q")
        #expect(tmux.waitForScreen(timeout: 5) { $0.joined().contains("EXIT=0") })
    }

    @Test func quittingGivesTheTerminalBackAsItWas() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        let before = tmux.directory.appendingPathComponent("before").path
        let after = tmux.directory.appendingPathComponent("after").path
        try tmux.run("stty -g > \(before); \(Self.kltop) demo; echo EXIT=$?; stty -g > \(after)")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("healthy") })
        try tmux.press("q")
        #expect(tmux.waitForScreen(timeout: 5) { $0.joined().contains("EXIT=0") })
        Thread.sleep(forTimeInterval: 0.3)
        #expect(
            try String(contentsOfFile: before, encoding: .utf8)
                == String(contentsOfFile: after, encoding: .utf8))
        #expect(!tmux.screen().joined().contains("healthy"), "the dashboard is still on screen")
    }

    /// kltop runs in the foreground (as from a shell), by way of `sh -c 'echo $$ > pid; exec kltop …'`, so
    /// that the test can signal it by its pid. (A background `kltop &` would stop at its first terminal
    /// change, SIGTTOU, and never draw: a test of that proves nothing.)
    func runInTheForeground(_ tmux: TmuxSession, _ arguments: String) throws -> pid_t {
        let pidFile = tmux.directory.appendingPathComponent("pid")
        try tmux.run("stty -g > before; sh -c 'echo $$ > pid; exec \(Self.kltop) \(arguments)'")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("healthy") }, "\(tmux.screen())")
        return pid_t(
            try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            ?? 0
    }

    /// After the dashboard is gone: the shell's `$?` and whether `stty -g` reads as before kltop ran.
    func exitStatusAndTerminal(_ tmux: TmuxSession) throws -> (String, Bool) {
        try tmux.run("echo EXIT=$?; stty -g > after")
        #expect(tmux.waitForScreen(timeout: 5) { $0.contains { $0.hasPrefix("EXIT=") } }, "\(tmux.screen())")
        Thread.sleep(forTimeInterval: 0.3)
        let line = tmux.screen().first { $0.hasPrefix("EXIT=") } ?? ""
        let before = try String(contentsOf: tmux.directory.appendingPathComponent("before"), encoding: .utf8)
        let after = try String(contentsOf: tmux.directory.appendingPathComponent("after"), encoding: .utf8)
        return (line, before == after && !before.isEmpty)
    }

    /// The terminal is given back on SIGTERM and SIGHUP, and kltop then ends by the signal: the shell says
    /// 143 or 129 (it said 0).
    @Test(arguments: [(SIGTERM, "EXIT=143"), (SIGHUP, "EXIT=129")])
    func sigtermAndSighupGiveTheTerminalBackAndEndBySignal(signal: Int32, status: String) throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        let pid = try runInTheForeground(tmux, "demo")
        #expect(pid > 0 && kill(pid, signal) == 0)
        let (line, restored) = try exitStatusAndTerminal(tmux)
        #expect(line == status, "\(tmux.screen())")
        #expect(restored, "stty -g differs after kltop")
        #expect(!tmux.screen().joined().contains("healthy"), "the dashboard is still on screen")
    }

    /// Ctrl-C, as the user presses it: the terminal given back, and 130 for the shell.
    @Test func ctrlCGivesTheTerminalBackAndEndsBySIGINT() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        _ = try runInTheForeground(tmux, "demo")
        try tmux.press("C-c")
        let (line, restored) = try exitStatusAndTerminal(tmux)
        #expect(line == "EXIT=130", "\(tmux.screen())")
        #expect(restored, "stty -g differs after kltop")
        #expect(!tmux.screen().joined().contains("healthy"), "the dashboard is still on screen")
    }

    /// A terminal that cannot move the cursor (TERM=dumb) gave a blank screen and status 0.
    @Test func aTerminalWithoutCursorAddressingIsAClearError() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        try tmux.run("TERM=dumb \(Self.kltop) demo; echo EXIT=$?")
        #expect(tmux.waitForScreen(timeout: 10) { $0.contains { $0.hasPrefix("EXIT=") } }, "\(tmux.screen())")
        let screen = tmux.screen().joined()
        #expect(screen.contains("EXIT=3"), "\(screen)")
        #expect(
            screen.contains("needs a terminal that can move the cursor, and TERM=dumb cannot"), "\(screen)")
    }

    @Test func standardInputIsARunAndKeysStillWork() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        let log = tmux.directory.appendingPathComponent("piped.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: Data(Self.calmLines(0..<60).utf8))
        try tmux.run("(cat piped.jsonl; sleep 2) | \(Self.kltop) -; echo EXIT=$?")
        #expect(
            tmux.waitForScreen(timeout: 10) {
                $0.joined().contains("stdin") && $0.joined().contains("step 59")
            }, "\(tmux.screen())")
        try tmux.press("q")  // read from the terminal, not from the pipe
        #expect(tmux.waitForScreen(timeout: 8) { $0.joined().contains("EXIT=0") }, "\(tmux.screen())")
    }

    /// The step a run's header shows ("● NAME  kl  step 29  KL ..."), if it is on screen.
    static func headerStep(of run: String, in screen: [String]) -> Int? {
        for line in screen where line.hasPrefix("● \(run) ") {
            let words = line.split(separator: " ")
            if let index = words.firstIndex(of: "step"), index + 1 < words.count {
                return Int(words[index + 1])
            }
        }
        return nil
    }

    /// Standard input that never ends and comes as fast as kltop reads it: the reader thread is always
    /// reading or waiting for room in its queue, steps show while it reads, and q, Ctrl-C and SIGTERM still
    /// end kltop at once and give the terminal back (a reader that did not stop would hold it forever).
    @Test(arguments: [("q", "EXIT=0"), ("C-c", "EXIT=130"), ("SIGTERM", "EXIT=143")])
    func anEndlessFastStreamNeverHoldsUpQuitting(how: String, status: String) throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        let stream = #"awk 'BEGIN { for (i = 0; ; i++) printf "{\"step\": %d, \"kl\": 0.02}\n", i }'"#
        try tmux.run("stty -g > before; \(stream) | sh -c 'echo $$ > pid; exec \(Self.kltop) -'")
        let manyStepsShown = tmux.waitForScreen(timeout: 10) {
            (Self.headerStep(of: "stdin", in: $0) ?? 0) >= 10_000
        }
        #expect(manyStepsShown, "\(tmux.screen())")
        if how == "SIGTERM" {
            let pidFile = tmux.directory.appendingPathComponent("pid")
            let pid = pid_t(
                try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines))
            #expect(pid.map { kill($0, SIGTERM) } == 0)
        } else {
            try tmux.press(how)
        }
        let (line, restored) = try exitStatusAndTerminal(tmux)
        #expect(line == status, "\(tmux.screen())")
        #expect(restored, "stty -g differs after kltop")
    }

    /// Keys typed after `q` belong to the shell: kltop read every waiting key before it looked at the quit,
    /// and a command typed ahead while a big log loaded was swallowed (found by the endless-stream test
    /// failing under load).
    @Test func keysTypedAfterQuitAreLeftForTheShell() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        let log = tmux.directory.appendingPathComponent("calm.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: Data(Self.calmLines(0..<30).utf8))
        try tmux.run("\(Self.kltop) calm.jsonl")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("step 29") }, "\(tmux.screen())")
        // One write to the terminal: kltop finds the quit and the shell's next command waiting together.
        try tmux.run("qecho typed-ahead-$((6 * 7))")
        #expect(
            tmux.waitForScreen(timeout: 5) { $0.contains("typed-ahead-42") },
            "the keys after q did not reach the shell: \(tmux.screen())")
    }

    @Test func escapeSequencesFromTheLogAreShownInert() throws {
        let tmux = try TmuxSession(width: 120, height: 30)
        let hostile = "run\u{1B}]2;pwned\u{07}\u{1B}[31m.jsonl"
        let log = tmux.directory.appendingPathComponent(hostile)
        FileManager.default.createFile(atPath: log.path, contents: Data(Self.calmLines(0..<30).utf8))
        let capture = tmux.directory.appendingPathComponent("bytes")
        try tmux.captureOutput(to: capture)
        try tmux.run("\(Self.kltop) run*")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("step 29") }, "\(tmux.screen())")
        #expect(tmux.screen().joined().contains("run\\e]2;pwned\\x07\\e[31m"), "\(tmux.screen())")
        let bytes = try Data(contentsOf: capture)
        #expect(
            !bytes.contains(Data([0x1B]) + Data("]2;pwned".utf8)),
            "the title-setting sequence reached the terminal")
        #expect(!bytes.contains(Data([0x07])), "a bell from the file name reached the terminal")
        try tmux.press("q")
    }

    /// A name with glyphs the old width table got wrong shifted the rest of its header row; CJK names were
    /// `????`. In a real terminal the fields after the name must sit where the grid put them.
    @Test func wideGlyphsInFileNamesAreShownWithoutShiftingTheRow() throws {
        let tmux = try TmuxSession(width: 100, height: 30)
        for name in ["a🟰🟰🟰b.jsonl", "训练.jsonl"] {
            let log = tmux.directory.appendingPathComponent(name)
            FileManager.default.createFile(atPath: log.path, contents: Data(Self.calmLines(0..<30).utf8))
        }
        try tmux.run("\(Self.kltop) *.jsonl")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("step 29") }, "\(tmux.screen())")
        let screen = tmux.screen()
        for name in ["a🟰🟰🟰b", "训练"] {
            #expect(screen.contains { $0.hasPrefix("● \(name)  kl  step 29  KL ") }, "\(name): \(screen)")
        }
        try tmux.press("q")
    }

    @Test func anIdleScreenWritesNothingAndANewStepLittle() throws {
        let tmux = try TmuxSession(width: 120, height: 40)
        let log = tmux.directory.appendingPathComponent("quiet.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: Data(Self.calmLines(0..<500).utf8))
        let capture = tmux.directory.appendingPathComponent("bytes")
        try tmux.run("\(Self.kltop) quiet.jsonl")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("step 499") })
        Thread.sleep(forTimeInterval: 3)  // steps per second settles at zero
        try tmux.captureOutput(to: capture)
        Thread.sleep(forTimeInterval: 2)
        let idle = (try? Data(contentsOf: capture).count) ?? 0
        #expect(idle == 0, "an idle dashboard wrote \(idle) bytes in 2 s")
        try Self.append(Self.calmLines(500..<501), to: log)
        #expect(tmux.waitForScreen(timeout: 5) { $0.joined().contains("step 500") })
        Thread.sleep(forTimeInterval: 1)
        let oneStep = (try? Data(contentsOf: capture).count) ?? 0
        #expect(oneStep > 0 && oneStep <= 2048, "one new step wrote \(oneStep) bytes at 120×40")
        try tmux.press("q")
    }
}
