import Foundation
import KLDetector
import LogFollowing
import RunLogs
import Testing

@testable import Dashboard

@Suite struct RenderTests {
    static func demo(glyphs: GlyphSet = .braille) -> DashboardState {
        DashboardState.with(
            [
                ("grpo-explosion", Series.healthy(count: 600, spikeAt: 450)),
                ("drift", Series.drift(count: 500)),
            ],
            options: ViewOptions(glyphs: glyphs))
    }

    static let sizes = [(120, 40), (80, 24), (40, 12), (20, 6), (1, 1), (0, 0), (2, 1), (1, 3)]

    @Test(arguments: sizes) func everySizeGivesAGridOfThatSize(width: Int, height: Int) {
        for state in [Self.demo(), DashboardState(), Self.demo(glyphs: .ascii)] {
            let grid = render(state, width: width, height: height)
            #expect(grid.width == width && grid.height == height)
            #expect(grid.textLines().allSatisfy { $0.unicodeScalars.count == width })
        }
    }

    @Test func aStackedPanelShowsHeaderPlotBandAndLabelsAtFullSize() {
        let lines = render(Self.demo(), width: 120, height: 40).textLines()
        #expect(lines[0].contains("σ 3") && lines[0].contains("window 100") && lines[0].contains("rolling"))
        #expect(lines[1].hasPrefix("CRITICAL grpo-explosion step 450"))
        #expect(lines[1].contains("Immediately reduce learning rate"))
        let header = lines.first { $0.contains("● grpo-explosion") } ?? ""
        for field in ["actor/kl_loss", "step 599", "KL ", "z ", "μ ", "σ "] {
            #expect(header.contains(field))
        }
        let text = lines.joined()
        #expect(text.contains("crit") && text.contains("+3σ"))
        #expect(text.contains("╌") && text.contains("·"))
        #expect(text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
    }

    @Test func at40x12FewerStatsAndNoBandLabels() {
        let lines = render(Self.demo(), width: 40, height: 12).textLines()
        let text = lines.joined(separator: "\n")
        // (The status bar's "1 crit" counts runs; the band labels are what must go.)
        #expect(!lines.dropFirst().joined().contains("crit") && !text.contains("+3σ"))
        #expect(!text.contains("μ ") && !text.contains("actor/kl_loss"))
        #expect(text.contains("grpo-explosion"))
        #expect(text.contains("KL "))
    }

    @Test func asciiGlyphsArePureASCII() {
        for (width, height) in [(120, 40), (80, 24), (40, 12)] {
            let grid = render(Self.demo(glyphs: .ascii), width: width, height: height)
            #expect(grid.cells.allSatisfy { $0.glyph.isASCII }, "\(width)×\(height)")
        }
    }

    /// With `--no-color` the band and the critical line were `.` and `-`, the same characters as low and
    /// middle data points; σ and μ read `s` and `u`.
    @Test func asciiBandAndCriticalLineCanBeToldFromTheDataWithoutColours() {
        let grid = render(Self.demo(glyphs: .ascii), width: 120, height: 40)
        let pointRoles: Set<ColorRole> = [.pointNormal, .pointWarning, .pointCritical, .dim]
        // The plot rows: those with the y axis (`|`, `+` at a label) in column 9.
        let plotArea = (0..<grid.height).filter { [Unicode.Scalar("|"), "+"].contains(grid[9, $0].glyph) }
            .flatMap { y in (10..<114).map { grid[$0, y] } }
        let points = Set(plotArea.filter { pointRoles.contains($0.role) }.map(\.glyph))
        let band = Set(plotArea.filter { $0.role == .band }.map(\.glyph))
        let critical = Set(plotArea.filter { $0.role == .criticalLine }.map(\.glyph))
        #expect(band == [":"] && critical == ["~"], "\(band) \(critical)")
        #expect(points.isDisjoint(with: band.union(critical)), "\(points)")
        let lines = grid.textLines()
        #expect(lines[0].contains("sigma 3 "))
        #expect(lines.contains { $0.contains(" mean 0.0") && $0.contains(" sd 0.00") })
        #expect(lines.contains { $0.hasSuffix(" +3sd") })
    }

    /// The band label was clipped to 4 columns: `+4.5` with its σ cut off.
    @Test func bandLabelsAreNeverClipped() {
        for glyphs in [GlyphSet.braille, .ascii] {
            var state = Self.demo(glyphs: glyphs)
            state.press("+++")
            let text = render(state, width: 120, height: 40).textLines().joined(separator: "\n")
            #expect(text.contains(glyphs == .ascii ? "+4.5sd" : "+4.5σ"), "\(glyphs)")
        }
    }

    /// The y labels of every plot on screen (the text left of each `┤`).
    static func yLabels(_ grid: Grid) -> [Double] {
        grid.textLines().compactMap { line -> Double? in
            guard let tick = line.firstIndex(of: "┤") else { return nil }
            return Double(line[..<tick].trimmingCharacters(in: .whitespaces))
        }
    }

    /// The autoscale took in mean − kσ, so the axis went below zero (−0.1, −10…20 with x) for KL, which is
    /// never negative in most logs.
    @Test func theAxisStaysAtZeroWhenEveryValueInViewIsNonNegative() {
        var state = Self.demo()
        for keys in ["", "x", "-", "b", "s"] {
            state.press(keys)
            for (width, height) in [(120, 40), (80, 24), (40, 12)] {
                let labels = Self.yLabels(render(state, width: width, height: height))
                #expect(
                    !labels.isEmpty && labels.allSatisfy { $0 >= 0 }, "\(keys) \(width)×\(height): \(labels)")
            }
        }
        // Negative values in view: the axis goes below zero to show them.
        let negative = Series.healthy(count: 300).map { MetricSample(step: $0.step, value: $0.value - 0.03) }
        let below = Self.yLabels(
            render(DashboardState.with([("negative", negative)]), width: 120, height: 40))
        #expect(below.contains { $0 < 0 }, "\(below)")
    }

    @Test func blockGlyphsUseEighthBlocksAndNoBraille() {
        let grid = render(Self.demo(glyphs: .blocks), width: 80, height: 24)
        #expect(!grid.cells.contains { (0x2800...0x28FF).contains($0.glyph.value) })
        #expect(grid.cells.contains { GlyphSet.eighths.contains($0.glyph) })
    }

    @Test func pointsAreColouredByStatus() {
        let grid = render(Self.demo(), width: 120, height: 40)
        let roles = Set(grid.cells.filter { (0x2801...0x28FF).contains($0.glyph.value) }.map(\.role))
        #expect(roles.contains(.pointNormal) && roles.contains(.pointCritical) && roles.contains(.dim))
        #expect(grid.cells.contains { $0.role == .bannerCritical })
    }

    @Test func theFrozenBaselineIsAMarkerWithALockMark() {
        var state = Self.demo()
        state.press("b")
        let grid = render(state, width: 120, height: 40)
        #expect(grid.cells.contains { $0.glyph == "═" && $0.role == .frozenMarker })
        #expect(grid.cells.contains { $0.glyph == "▲" && $0.role == .frozenMarker })
        #expect(grid.textLines().contains { $0.contains("frozen@99") })
    }

    /// A FIFO with no writer yet says what it waits for; standard input or a pipe that closed says so, and
    /// keeps saying it when its last samples come after the news.
    @Test func aStreamSaysItWaitsForItsWriterThenThatItClosed() {
        var state = DashboardState()
        state.send(.runAdded(RunID(0), name: "pipe", source: "/dev/fd/63"))
        for event in DashboardEvent.translating(
            .notice(run: 0, Notice(.waitingForWriter, path: "/dev/fd/63", "waiting")))
        {
            state.send(event)
        }
        #expect(render(state, width: 80, height: 24).textLines()[1].contains("waiting for a writer"))
        var statistics = ReadStatistics()
        statistics.records = 200
        statistics.samples = 200
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: Series.healthy(count: 200), statistics: statistics))
        for event in DashboardEvent.translating(.runEnded(run: 0)) { state.send(event) }
        state.send(
            .samplesAppended(RunID(0), metricKey: "kl", samples: [], statistics: statistics), .tick(time: 10))
        let header = render(state, width: 80, height: 24).textLines()[1]
        #expect(header.contains("input closed") && !header.contains("waiting"), "\(header)")
    }

    @Test func escapeSequencesInNamesAndKeysNeverReachACell() {
        var state = DashboardState()
        state.send(
            .runAdded(RunID(0), name: "evil\u{1B}[2J\u{1B}]0;title\u{7}", source: "x"),
            .samplesAppended(
                RunID(0), metricKey: "kl\u{1B}[31m\u{9B}", samples: Series.healthy(count: 400, spikeAt: 300),
                statistics: ReadStatistics()),
            .runStatusChanged(RunID(0), .unreadable("gone\u{1B}[H")))
        for screen in ["", "h", "h?"] {
            state.press(screen)
            for (width, height) in [(120, 40), (80, 24), (40, 12)] {
                let grid = render(state, width: width, height: height)
                #expect(
                    !grid.cells.contains { $0.glyph.value < 0x20 || (0x7F..<0xA0).contains($0.glyph.value) })
                if screen.isEmpty && width == 120 {
                    let text = grid.textLines().joined()
                    #expect(text.contains("evil\\e[2J\\e]0;title\\x07"))
                    #expect(text.contains("kl\\e[31m\\u{9b}"))
                }
            }
        }
    }

    /// What following says about a PATH that is no run (a folder kltop may not list, one with no logs yet)
    /// reached `check` and `export` but not the dashboard, which only said "waiting for logs".
    @Test func noticesAboutPathsAreShownWhileThereAreNoRunsAndCountedAfter() {
        var state = DashboardState()
        state.send(
            .sourceNoticed(path: "runs/empty", message: "no run logs in it yet", isProblem: false),
            .sourceNoticed(path: "runs/secret", message: "permission denied", isProblem: false),
            .sourceNoticed(
                path: "runs/secret\u{1B}[2J", message: "permission denied: cannot be listed", isProblem: true),
            .sourceNoticed(
                path: "runs/secret", message: "permission denied: cannot be listed", isProblem: true))
        #expect(state.sourceNotices.map(\.path) == ["runs/empty", "runs/secret", "runs/secret\\e[2J"])
        let empty = render(state, width: 80, height: 24)
        let lines = empty.textLines()
        #expect(lines.contains { $0.hasPrefix("no runs yet: waiting for logs") }, "\(empty.text)")
        #expect(lines.contains { $0.hasPrefix("runs/empty: no run logs in it yet") }, "\(empty.text)")
        #expect(lines.contains { $0.hasPrefix("runs/secret: permission denied: cannot be listed") })
        #expect(!empty.cells.contains { $0.glyph.value < 0x20 })
        #expect(empty.cells.contains { $0.role == .pointWarning })
        #expect(!lines[0].contains("unreadable"))

        state.send(.runAdded(RunID(0), name: "ppo", source: "runs/ppo.jsonl"))
        let withRuns = render(state, width: 100, height: 24).textLines()
        #expect(withRuns[0].contains("2 paths unreadable"), "\(withRuns[0])")
        #expect(!withRuns.contains { $0.contains("no run logs in it yet") })

        // A run from a path that was unreadable: it is readable now (following says nothing when a problem
        // clears), and the count said so for the whole session.
        state.send(.runAdded(RunID(1), name: "grpo", source: "runs/secret/grpo.jsonl"))
        #expect(state.sourceNotices.map(\.path) == ["runs/empty", "runs/secret\\e[2J"])
        #expect(render(state, width: 100, height: 24).textLines()[0].contains("1 path unreadable"))
    }

    /// Following's notices without a run become the dashboard's notices about paths.
    @Test func followingNoticesWithoutARunAreTranslated() {
        let events = DashboardEvent.translating(
            .notice(run: nil, Notice(.permissionDenied, path: "runs/x", "permission denied")))
        guard case .sourceNoticed(let path, let message, let isProblem)? = events.first else {
            Issue.record("\(events)")
            return
        }
        #expect(path == "runs/x" && message == "permission denied" && isProblem)
    }

    /// Names with wide glyphs: the table missed some (a row shifted), and CJK names were drawn as `????`.
    @Test func wideGlyphsInNamesAreDrawnAndRowsKeepTheirWidth() {
        let names = ["a🟰🟰🟰b.jsonl", "训练-运行", "䷀䷁-hexagrams"]
        for glyphs in [GlyphSet.braille, .ascii] {
            var state = DashboardState.with(
                names.map { ($0, Series.healthy(count: 300, spikeAt: 250)) },
                options: ViewOptions(glyphs: glyphs))
            for screen in ["", "o", "h"] {
                state.press(screen)
                for (width, height) in [(120, 40), (80, 24), (40, 12), (20, 6), (7, 3)] {
                    let grid = render(state, width: width, height: height)
                    #expect(grid.isWellFormed, "\(glyphs) \(screen) \(width)×\(height)")
                    #expect(
                        grid.lineColumns().allSatisfy { $0 == width },
                        "\(glyphs) \(screen) \(width)×\(height)")
                    if glyphs == .braille && screen.isEmpty && width == 120 {
                        let text = grid.textLines().joined(separator: "\n")
                        for name in names {
                            #expect(text.contains("● " + name + "  actor/kl_loss  step 299"))
                        }
                    }
                    if glyphs == .ascii && screen.isEmpty && width == 120 {
                        #expect(grid.textLines().contains { $0.contains("* ????-????  actor/kl_loss") })
                    }
                }
                state.press(screen)
            }
        }
    }

    /// A log without a known KL key showed `● keyed  0/s` over an empty plot, with no word of why.
    @Test func aRunWithoutKLValuesSaysWhyInItsPanelAndItsListLine() {
        var statistics = ReadStatistics()
        statistics.records = 120
        var state = DashboardState.with([("healthy", Series.healthy(count: 300))])
        state.send(
            .runAdded(RunID(1), name: "keyed", source: "/logs/keyed.jsonl"),
            .samplesAppended(RunID(1), metricKey: nil, samples: [], statistics: statistics),
            .runAdded(RunID(2), name: "named", source: "/logs/named.jsonl"),
            .samplesAppended(RunID(2), metricKey: "nope", samples: [], statistics: statistics))
        #expect(state.runs[1].keyProblem == .noKnownKey(records: 120, reason: nil, keys: [], moreKeys: 0))
        #expect(state.runs[2].keyProblem == .noValues(key: "nope", records: 120))
        let panels = render(state, width: 120, height: 40).textLines()
        #expect(
            panels.contains {
                $0.hasPrefix("● keyed  no KL key found in 120 records: name it with --metric KEY")
            })
        #expect(panels.contains { $0.hasPrefix("● named  nope  no \"nope\" values in 120 records") })
        let text = panels.joined(separator: " ").split(separator: " ").joined(separator: " ")
        #expect(
            text.contains("No KL key found in 120 records. Name the key that holds KL with --metric KEY."))
        #expect(!text.contains("looked for"), "the 34 keys kltop looks for are not listed on a panel")
        #expect(text.contains("No number under \"nope\""))
        // A line in the compact list says it too.
        let list = render(state, width: 80, height: 10).textLines()
        #expect(list.contains { $0.contains("● keyed  no KL key: --metric KEY") }, "\(list)")
        // The first sample ends it.
        state.send(
            .samplesAppended(
                RunID(1), metricKey: "kl", samples: Series.healthy(count: 10), statistics: statistics))
        #expect(state.runs[1].keyProblem == nil)
    }

    /// PPO's approx KL is the update size, not drift from the reference model: the header says so after the
    /// key, shorter in the compact list; a reference key gets no such word.
    @Test func anUpdateSizeKeyIsSaidInTheHeader() {
        var state = DashboardState()
        state.send(
            .runAdded(RunID(0), name: "grpo", source: "/logs/grpo.jsonl"),
            .samplesAppended(
                RunID(0), metricKey: "train/kl", samples: Series.healthy(count: 200),
                statistics: ReadStatistics()),
            .runAdded(RunID(1), name: "ppo", source: "/logs/ppo.jsonl"),
            .samplesAppended(
                RunID(1), metricKey: "actor/ppo_kl", samples: Series.healthy(count: 200),
                statistics: ReadStatistics()))
        let lines = render(state, width: 140, height: 40).textLines()
        let ppo = lines.first { $0.contains("● ppo") } ?? ""
        #expect(ppo.contains("actor/ppo_kl  approx KL (update size), not reference KL"), "\(lines)")
        let grpo = lines.first { $0.contains("● grpo") } ?? ""
        #expect(grpo.contains("train/kl") && !grpo.contains("update size"), "\(grpo)")
        // Narrower, the explanation yields to the figures but its gist stays.
        let narrow = render(state, width: 90, height: 40).textLines().first { $0.contains("● ppo") } ?? ""
        #expect(narrow.contains("update-size KL") && narrow.contains("σ "), "\(narrow)")
        #expect(!narrow.contains("not reference KL"))
        // The compact list line of the run not in focus.
        let list = render(state, width: 80, height: 10).textLines()
        #expect(list.contains { $0.contains("● ppo") && $0.contains("update-size KL") }, "\(list)")
        #expect(!list.contains { $0.contains("● grpo") && $0.contains("update-size KL") })
    }

    /// Run names of different lengths put the figures of each alert at a different column.
    @Test func theAlertHistoryColumnsLineUp() {
        var state = BannerTests.fiveSpikedRuns(3)
        state.send(.runAdded(RunID(1), name: "a-much-longer-run-name", source: "x"))
        state.press("h")
        let lines = render(state, width: 100, height: 30).textLines().filter {
            $0.contains("CRITICAL") || $0.contains("WARNING")
        }
        #expect(lines.count == 3)
        for field in ["KL ", "  z ", "  μ ", "  σ "] {
            let columns = Set(
                lines.map { line in
                    line.range(of: field).map { line.distance(from: line.startIndex, to: $0.lowerBound) }
                        ?? -1
                })
            #expect(columns.count == 1, "\(field): \(lines)")
        }
    }

    /// An alert the delivery thread gave up on is marked on its line of the history, and the lines about
    /// delivery (the --on-alert command's output among them) are kept below, sanitised, the last 50 only.
    @Test func theAlertHistoryMarksUndeliveredAlertsAndKeepsTheDeliveryLines() throws {
        var state = DashboardState.with([("spiky", Series.healthy(count: 300, spikeAt: 250))])
        let alert = try #require(state.runs[0].alerts.first)
        state.send(
            .alertUndelivered(
                state.runs[0].id, step: alert.step, severity: alert.severity, channel: "webhook"))
        for index in 0..<60 { state.send(.deliveryReported("on-alert: line \(index)")) }
        state.send(.deliveryReported("on-alert: \u{1B}[31mred\u{1B}[0m"))
        state.press("h")
        state.send(.keyPressed(.end))
        let text = render(state, width: 100, height: 200).textLines()
        let marked = text.filter { $0.contains("not delivered to webhook") }
        #expect(marked.count == 1 && marked[0].contains(String(alert.step)), "\(text)")
        #expect(text.contains { $0.contains("Delivery") && $0.contains("the last 50 lines") })
        let trimmed = text.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(!trimmed.contains { $0.hasSuffix("line 10") } && trimmed.contains { $0.hasSuffix("line 59") })
        #expect(!text.joined().contains("\u{1B}") && text.contains { $0.contains("red") })
    }

    /// With each alert's action below it, the history is longer than its count of alerts: End must still
    /// reach the last line, and one Up from there move the view by one line.
    @Test func theAlertHistoryScrollsToItsLastLine() {
        var state = DashboardState.with(
            [
                (
                    "spiky",
                    (0..<40).flatMap {
                        Series.healthy(count: 200, seed: UInt64($0), spikeAt: 150, startStep: Int64($0) * 200)
                    }
                )
            ])
        state.send(.resized(width: 80, height: 24))
        #expect(state.runs[0].alerts.count >= 30)
        state.press("h")
        state.send(.keyPressed(.end))
        let end = render(state, width: 80, height: 24).textLines()
        #expect(end[23].contains("reverting to a previous checkpoint."), "\(end)")
        state.send(.keyPressed(.up))
        let up = render(state, width: 80, height: 24).textLines()
        #expect(Array(up[2...]) == Array(end[1..<23]))
    }

    /// At 20×6 with one run and a banner, the 4 rows left were less than a panel's 5: one list line and
    /// three blank rows. A panel shrinks to its header and two plot rows first.
    @Test func aPanelShrinksBeforeTheRunBecomesALine() {
        let one = DashboardState.with([("solo", Series.healthy(count: 300, spikeAt: 250))])
        let lines = render(one, width: 20, height: 6).textLines()
        #expect(lines[1].hasPrefix("CRITICAL"))
        #expect(lines[2].hasPrefix("● solo"))
        let braille = lines[3...].filter {
            $0.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }
        }
        #expect(!braille.isEmpty, "\(lines)")
        // With other runs: the focused panel down to three rows, and a line saying what was left out.
        let runs = DashboardState.with(
            (0..<4).map { ("run-\($0)", Series.healthy(count: 300, seed: UInt64($0 + 1))) })
        let stacked = render(runs, width: 40, height: 5).textLines()
        #expect(stacked[1].hasPrefix("● run-0") && stacked[4].contains("+3 more runs"), "\(stacked)")
        let tiny = render(runs, width: 40, height: 4).textLines()
        #expect(tiny[1].hasPrefix("● run-0") && tiny[2].hasPrefix("● run-1"), "a list below 4 rows: \(tiny)")
    }

    @Test func sixteenRunsFitAsAPanelAndAList() {
        let runs = (0..<16).map { ("run-\($0)", Series.healthy(count: 200, seed: UInt64($0))) }
        var state = DashboardState.with(runs)
        var lines = render(state, width: 120, height: 40).textLines()
        #expect(lines.filter { $0.contains("● run-") }.count == 16)
        state.send(.keyPressed(.tab))
        lines = render(state, width: 120, height: 40).textLines()
        #expect(lines.first { $0.contains("● run-") }?.contains("run-1 ") == true)
        lines = render(state, width: 40, height: 12).textLines()
        #expect(lines.contains { $0.contains("more run") })
        state.press("o")
        let overlay = render(state, width: 120, height: 40)
        #expect(Set(overlay.cells.map(\.role)).isSuperset(of: ColorRole.runPalette))
    }

    @Test func overlayColoursStayWithTheirRuns() {
        var state = Self.demo()
        state.press("o")
        let before = render(state, width: 100, height: 30)
        state.send(.keyPressed(.tab))
        let after = render(state, width: 100, height: 30)
        func roleOfName(_ grid: Grid, _ name: String) -> ColorRole? {
            for y in 0..<grid.height {
                let line = grid.textLines()[y]
                guard let range = line.range(of: "● " + name) else { continue }
                let x = line.distance(from: line.startIndex, to: range.lowerBound)
                return grid[x + 2, y].role
            }
            return nil
        }
        #expect(roleOfName(before, "drift") == .run1)
        #expect(roleOfName(after, "grpo-explosion") == .run0)
        // The focused run's name kept the selection colour, which hid its plot colour: now its own, reversed.
        #expect(roleOfName(before, "grpo-explosion") == .run0)
        #expect(roleOfName(after, "drift") == .run1)
    }

    /// The compact list was rotated to start after the focused run, so every Tab reordered all of it.
    @Test func tabMovesThePanelAndKeepsTheListInOrder() {
        var state = DashboardState.with(
            (0..<6).map { ("run-\($0)", Series.healthy(count: 200, seed: UInt64($0))) })
        func listOrder() -> [String] {
            let lines = render(state, width: 80, height: 14).textLines()
            let header = lines.firstIndex { $0.contains("step 199  KL") && $0.contains("μ ") } ?? 0
            return lines[(header + 1)...].compactMap { line in
                line.hasPrefix("● run-") ? String(line.dropFirst(2).prefix(5)) : nil
            }
        }
        #expect(listOrder() == ["run-1", "run-2", "run-3", "run-4", "run-5"])
        state.send(.keyPressed(.tab), .keyPressed(.tab))
        #expect(listOrder() == ["run-0", "run-1", "run-3", "run-4", "run-5"])
    }

    /// The header's last two fields: steps per second (measured over tick time) and bad lines skipped.
    @Test func theHeaderShowsStepsPerSecondAndBadLines() {
        var state = DashboardState.with([("run", Series.healthy(count: 600))])
        var statistics = ReadStatistics()
        statistics.records = 643
        statistics.samples = 640
        statistics.badLines = 3
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "actor/kl_loss", samples: Series.healthy(count: 40, startStep: 600),
                statistics: statistics),
            .tick(time: 102))
        let header = render(state, width: 120, height: 40).textLines().first { $0.contains("● run") } ?? ""
        #expect(
            header.contains("step 639") && header.contains("20/s") && header.contains("3 bad"), "\(header)")
        // Bad lines outrank the rate when the line narrows: they mean data was skipped.
        let narrow = render(state, width: 60, height: 24).textLines().first { $0.contains("● run") } ?? ""
        #expect(narrow.contains("3 bad") && !narrow.contains("/s"), "\(narrow)")
    }

    /// A log read to its end inside its last record (`kltop snapshot` of a live W&B file): the header says
    /// the record is incomplete, not bad; it gives way before the figures when the line narrows.
    @Test func theHeaderSaysALastRecordStillBeingWritten() {
        var state = DashboardState.with([("run", Series.healthy(count: 600))])
        var statistics = ReadStatistics()
        statistics.records = 640
        statistics.samples = 640
        statistics.heldAtEnd = 54
        state.send(
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: Series.healthy(count: 40, startStep: 600),
                statistics: statistics),
            .tick(time: 102))
        let header = render(state, width: 120, height: 40).textLines().first { $0.contains("● run") } ?? ""
        #expect(header.contains("last record incomplete") && !header.contains("bad"), "\(header)")
        let narrow = render(state, width: 60, height: 24).textLines().first { $0.contains("● run") } ?? ""
        #expect(narrow.contains("step 639") && !narrow.contains("incomplete"), "\(narrow)")
    }

    /// In frozen mode the header says where the baseline locked, or that it has not yet.
    @Test func theHeaderSaysWhetherTheFrozenBaselineHasLocked() {
        var early = DashboardState.with([("run", Series.healthy(count: 50))])
        early.press("b")
        let waiting = render(early, width: 120, height: 40).textLines().first { $0.contains("● run") } ?? ""
        #expect(waiting.contains("frozen: not yet"), "\(waiting)")
        var late = DashboardState.with([("run", Series.healthy(count: 300))])
        late.press("b")
        let locked = render(late, width: 120, height: 40).textLines().first { $0.contains("● run") } ?? ""
        #expect(locked.contains("frozen@") && !locked.contains("not yet"), "\(locked)")
    }

    /// The y labels of the first panel: each labelled row (from the plot's top) and its value.
    static func firstPanelYLabels(_ grid: Grid) -> [(row: Int, value: Double)] {
        let lines = grid.textLines()
        guard let header = lines.firstIndex(where: { $0.hasPrefix("● ") }) else { return [] }
        var labels: [(row: Int, value: Double)] = []
        for (row, line) in lines[(header + 1)...].prefix(while: { !$0.contains("└") }).enumerated() {
            let columns = Array(line)
            guard columns.count > 9, columns[9] == "┤",
                let value = Double(String(columns[0..<9]).trimmingCharacters(in: .whitespaces))
            else { continue }
            labels.append((row, value))
        }
        return labels
    }

    /// On a log scale the labels are spaced by their logarithms (and the middle one is a power of ten); on a
    /// linear scale, by their values. The middle label's row is checked against where each kind of scale
    /// puts it, give or take the row it straddles.
    @Test func theLogScaleSpacesLabelsByTheirLogarithms() throws {
        var state = Self.demo()
        // Every value in the scale: the demo's one spike to 0.2 is what makes it span a decade.
        state.press("y")
        func middleRow(_ labels: [(row: Int, value: Double)], _ position: (Double) -> Double) -> Double {
            let (top, middle, bottom) = (labels[0], labels[1], labels[labels.count - 1])
            let rows = Double(bottom.row - top.row + 1)
            return (position(top.value) - position(middle.value))
                / ((position(top.value) - position(bottom.value)) / rows)
        }
        let linear = Self.firstPanelYLabels(render(state, width: 80, height: 24))
        try #require(linear.count == 3, "\(linear)")
        #expect(abs(middleRow(linear, { $0 }) - Double(linear[1].row)) <= 1.5, "\(linear)")
        state.press("l")
        let logarithmic = Self.firstPanelYLabels(render(state, width: 80, height: 24))
        try #require(logarithmic.count == 3, "\(logarithmic)")
        #expect(abs(middleRow(logarithmic, log10) - Double(logarithmic[1].row)) <= 1.5, "\(logarithmic)")
        #expect(abs(middleRow(logarithmic, { $0 }) - Double(logarithmic[1].row)) > 1.5, "\(logarithmic)")
        let exponent = log10(logarithmic[1].value)
        #expect(abs(exponent - exponent.rounded()) < 1e-9, "the middle label is a power of ten")
    }

    @Test func logScaleAndSmoothingKeepTheGridWellFormed() {
        var state = Self.demo()
        let plain = render(state, width: 80, height: 24)
        state.press("l")
        let logarithmic = render(state, width: 80, height: 24)
        #expect(logarithmic != plain)
        #expect(
            logarithmic.textLines().joined().contains("0.01")
                || logarithmic.textLines().joined().contains("e-"))
        state.press("ls")
        let smoothed = render(state, width: 80, height: 24)
        #expect(smoothed != plain)
        #expect(smoothed.textLines()[0].contains("ema 0.6"))
    }

    /// Terminal economy: one new step rewrites a column or two of the plot, not the screen.
    @Test(arguments: [GlyphSet.braille, .blocks, .ascii])
    func oneNewStepChangesFewCells(glyphs: GlyphSet) {
        var state = DashboardState.with(
            [("a", Series.healthy(count: 1000, seed: 7))], options: ViewOptions(glyphs: glyphs))
        var previous = render(state, width: 120, height: 40)
        var worst = 0
        var axisChanges = 0
        for step in 1000..<1100 {
            state.send(
                .samplesAppended(
                    RunID(0), metricKey: "actor/kl_loss",
                    samples: [MetricSample(step: Int64(step), value: 0.021)],
                    statistics: ReadStatistics()))
            let next = render(state, width: 120, height: 40)
            let changes = next.diff(from: previous)
            // The band labels in the 5 rightmost columns follow the band's last row; the plot itself changes
            // in the column the step landed in (and the one before it, when the new step starts a cell).
            // The x axis (the bottom row) changes only when the new step earns a tick of its own.
            let axisRow = 39
            let columns = Set(
                changes.filter { $0.y != axisRow }.flatMap { run in (run.x..<(run.x + run.cells.count)) }
                    .filter { $0 < 115 })
            #expect(columns.count <= 2, "step \(step) changed columns \(columns.sorted())")
            if changes.contains(where: { $0.y == axisRow }) { axisChanges += 1 }
            worst = max(worst, changes.cellCount)
            previous = next
        }
        #expect(worst <= 40, "a step changed \(worst) cells")
        // Ticks 200 steps apart: the 100 new steps add one (at 1000), so the axis is rewritten once or twice.
        #expect((1...2).contains(axisChanges), "the x axis changed on \(axisChanges) of 100 steps")
        print("economy (\(glyphs)): at most \(worst) cells changed per step at 120×40")
    }

    @Test func recentZoomJumpsByPagesInsteadOfScrolling() {
        var state = DashboardState.with([("a", Series.healthy(count: 1000))])
        state.press("x")
        var previous = render(state, width: 120, height: 40)
        var quiet = 0
        for step in 1000..<1200 {
            state.send(
                .samplesAppended(
                    RunID(0), metricKey: "kl", samples: [MetricSample(step: Int64(step), value: 0.02)],
                    statistics: ReadStatistics()))
            let next = render(state, width: 120, height: 40)
            if next.diff(from: previous).cellCount <= 40 { quiet += 1 }
            previous = next
        }
        #expect(quiet >= 190, "only \(quiet) of 200 steps were cheap")
    }

    @Test func anIdleScreenRendersIdentically() {
        var state = Self.demo()
        let first = render(state, width: 120, height: 40)
        // (Within a minute: after that, the silent runs are rightly marked stale.)
        state.send(.tick(time: 130), .tick(time: 131))
        let second = render(state, width: 120, height: 40)
        #expect(second.diff(from: first).count <= 2, "only the steps/s figures may change")
        #expect(render(state, width: 120, height: 40).diff(from: second).isEmpty)
    }

    @Test func helpAndHistoryScreensList() {
        var state = Self.demo()
        state.press("?")
        let help = render(state, width: 80, height: 24).textLines().joined(separator: "\n")
        #expect(help.contains("sigma multiplier") && help.contains("acknowledge"))
        state.press("?h")
        let history = render(state, width: 100, height: 24).textLines()
        #expect(history[1].contains("Alert history"))
        #expect(
            history.contains {
                $0.contains("CRITICAL") && $0.contains("grpo-explosion") && $0.contains("450")
            })
        // Each alert's recommended action, wrapped, below it: the banners may have had to cut it.
        let narrow = render(state, width: 60, height: 24).textLines()
        let critical = narrow.firstIndex { $0.contains("CRITICAL") && $0.contains("450") } ?? 0
        let action = narrow[(critical + 1)...].prefix { !$0.contains("WARNING") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(action.contains(Severity.critical.recommendation), "\(narrow)")
        #expect(narrow.allSatisfy { $0.unicodeScalars.count == 60 })
    }

    /// The reason a run logs no KL, where its keys show it, and a few of its keys, sanitised: a key is log
    /// text.
    @Test func aRunWithoutKLSaysWhyAndListsSomeKeys() {
        var statistics = ReadStatistics()
        statistics.records = 10
        statistics.keysSeen = ["rollout_corr/kl", "loss\u{1B}[2J", "a", "b", "c", "d", "e", "f"]
        var state = DashboardState()
        state.send(
            .runAdded(RunID(0), name: "verl", source: "/logs/verl.jsonl"),
            .samplesAppended(RunID(0), metricKey: nil, samples: [], statistics: statistics))
        guard case .noKnownKey(_, let reason, let keys, let more) = state.runs[0].keyProblem else {
            Issue.record("no key problem")
            return
        }
        #expect(reason?.contains("KL between trainer and inference engine (\"rollout_corr/kl\")") == true)
        #expect(keys.count == 6 && more == 2)
        #expect(!keys.joined().contains("\u{1B}"))
        let text = render(state, width: 120, height: 30).textLines().joined(separator: " ")
            .split(separator: " ").joined(separator: " ")
        #expect(text.contains("No KL key found in 10 records: it logs only KL between trainer and inference"))
        #expect(text.contains("(+2 more)"))
        #expect(!text.contains("\u{1B}"))
    }
}
