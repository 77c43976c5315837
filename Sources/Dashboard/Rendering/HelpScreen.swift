/// The keys, as the help screen lists them.
enum HelpText {
    static let lines: [(key: String, action: String)] = [
        ("q", "quit"),
        ("?", "this help (? or Esc closes it)"),
        ("p", "pause the view (reading goes on)"),
        ("tab ↓ →", "focus the next run"),
        ("shift-tab ↑ ←", "focus the previous run"),
        ("PgDn PgUp", "focus a page of runs on / back"),
        ("/", "filter runs by name (Enter keeps it, Esc clears it)"),
        ("r", "order runs by alerts (worst first) / name / last activity"),
        ("+ -", "sigma multiplier up / down (re-runs the detector)"),
        ("[ ]", "rolling window smaller / larger (re-runs the detector)"),
        ("b", "baseline rolling / frozen (re-runs the detector)"),
        ("w", "warmup steps: next value (re-runs the detector)"),
        ("l", "log scale"),
        ("y", "y axis: the bulk of the values, outliers marked at the edge / every value"),
        ("s", "smoothing: TensorBoard's EMA, weight 0.6 / 0.9 / 0.99 / off"),
        ("x", "zoom: whole run / recent steps"),
        ("o", "overlay all runs in one plot / a panel per run"),
        ("i", "inspect: a cursor on the plot, ← → a column, shift ← → ten, Esc leaves"),
        ("a", "acknowledge the alerts shown in banners"),
        ("f", "the focused run's next source: another of its logs"),
        ("h", "alert history"),
    ]

    /// What the plot's marks mean, in the glyphs they are drawn with.
    static func legend(_ glyphs: GlyphSet, shadedBand: Bool = false) -> [String] {
        let sigma = glyphs.deviationLabel
        let times = glyphs.times
        var lines = [
            "\(shadedBand ? "shaded" : "\(glyphs.bandFill)") band: baseline mean \(glyphs.plusMinus) k\(times)\(sigma) at each step; "
                + "\(glyphs.criticalLine) critical line at mean + 1.5\(times)k\(times)\(sigma)",
            "\(glyphs.aboveMark) 40 at the top edge: a value above the scale (y puts it in)",
            "\(glyphs.frozenLine) frozen baseline mean, \(glyphs.lockMark) on the axis where it locked",
            "points: normal, warning (z > k), critical (z > 1.5\(times)k); dim while warming up",
        ]
        if glyphs == .ascii { lines.append("points in a cell: . low, - middle, ' high, | several") }
        return lines
    }
}

extension Renderer {
    mutating func drawHelp(_ rect: Rect) {
        guard !rect.isEmpty else { return }
        var lines: [[Span]] = [[Span("Keys", .header, .bold)]]
        let keyWidth = (HelpText.lines.map { $0.key.unicodeScalars.count }.max() ?? 0) + 2
        for (key, action) in HelpText.lines {
            lines.append([Span(Fit.padLeft(key, to: keyWidth - 2) + "  ", .label, .bold), Span(action)])
        }
        lines.append([])
        for text in HelpText.legend(glyphs, shadedBand: state.options.shadesBand) {
            lines.append([Span(text, .dim)])
        }
        lines.append([])
        lines += sourceLines()
        let channels = state.options.alertChannels
        lines.append(
            channels.isEmpty
                ? [
                    Span(
                        "alerts stay on this screen: no channel set (rlwatch.yaml's alerts section, --on-alert)",
                        .dim)
                ]
                : [Span("alerts are also sent to: ", .dim), Span(channels.joined(separator: ", "), .text)])
        lines.append([Span("themes: " + Theme.builtInNames.joined(separator: ", "), .dim)])
        drawScrolled(lines, in: rect)
    }

    /// The focused run's logs (the one shown marked), and the logs found beside the runs that hold no KL.
    func sourceLines() -> [[Span]] {
        var lines: [[Span]] = []
        if let run = state.focusedRun, run.sources.count > 1 {
            lines.append([Span("Sources of \(run.name)", .header, .bold), Span(" (f: next)", .dim)])
            for (index, source) in run.sources.enumerated() {
                let shown = index == run.shownSource
                lines.append([
                    Span(shown ? "\(glyphs.statusMark) " : "  ", .selection),
                    Span(source.path, shown ? .text : .dim),
                ])
                if let note = source.disagreement {
                    lines.append([Span("    disagrees: " + note, .pointWarning)])
                }
            }
            lines.append([])
        }
        if !state.logsWithoutKL.isEmpty {
            lines.append([Span("Logs without KL (not runs)", .header, .bold)])
            for log in state.logsWithoutKL {
                let keys = log.keys.isEmpty ? "" : ": " + log.keys.joined(separator: ", ")
                lines.append([Span(log.path, .text), Span(" \(log.records) records\(keys)", .dim)])
                if let reason = log.reason { lines.append([Span("    " + reason, .pointWarning)]) }
            }
            lines.append([])
        }
        return lines
    }

    /// Lines from ``DashboardState/scroll``, clamped so the last page stays full.
    mutating func drawScrolled(_ lines: [[Span]], in rect: Rect) {
        let first = max(0, min(state.scroll, lines.count - rect.height))
        for row in 0..<rect.height where first + row < lines.count {
            grid.write(lines[first + row], x: rect.x + 1, y: rect.y + row, clip: rect)
        }
    }
}
