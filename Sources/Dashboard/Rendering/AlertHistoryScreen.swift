import KltopKit

extension Renderer {
    /// Every delivered alert, newest first: step, severity, run, KL, z, whether it was acknowledged, and
    /// rlwatch's recommended action below it (wrapped: the banners may have had to cut it).
    mutating func drawAlertHistory(_ rect: Rect) {
        guard !rect.isEmpty else { return }
        let history = state.alertHistory
        var lines: [[Span]] = [
            [
                Span("Alert history", .header, .bold),
                Span("  \(history.count) delivered · h or Esc closes · a acknowledges", .dim),
            ]
        ]
        if history.isEmpty { lines.append([Span("no alerts delivered", .dim)]) }
        // The action lines start under the severity, and leave the column the screen keeps free on the left.
        let actionWidth = max(20, rect.width - 1 - 12)
        let names = Dictionary(state.runs.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        for record in history {
            let alert = record.alert
            let critical = alert.severity == .critical
            lines.append([
                Span(record.isAcknowledged ? "  " : "• ", .text, .bold),
                Span(Fit.padLeft(String(alert.step), to: 8) + "  ", .text),
                Span((critical ? "CRITICAL" : "WARNING ") + "  ", critical ? .pointCritical : .pointWarning),
                Span(
                    Fit.truncate(names[record.run] ?? "?", to: 24, ellipsis: glyphs.ellipsis) + "  ", .text,
                    .bold),
                Span("KL ", .label), Span(Figures.short(alert.klDivergence) + "  "),
                Span("z ", .label), Span(Figures.short(alert.zScore, digits: 3) + "  "),
                Span(glyphs.meanLabel + " ", .label), Span(Figures.short(alert.rollingMean) + "  "),
                Span(glyphs.deviationLabel + " ", .label), Span(Figures.short(alert.rollingStd)),
            ])
            let indent = String(repeating: " ", count: 12)
            for line in Fit.wrap(alert.recommendation, firstWidth: actionWidth, width: actionWidth) {
                lines.append([Span(indent + line, .dim)])
            }
        }
        let recorded = state.runs.flatMap { run in run.recordedAlerts.map { (run.name, $0) } }
            .sorted { $0.1.step > $1.1.step }
        if !recorded.isEmpty {
            lines.append([])
            lines.append([
                Span("Recorded by rlwatch", .header, .bold),
                Span("  \(recorded.count) in its store, with its own settings and detectors", .dim),
            ])
            for (name, alert) in recorded {
                let critical = alert.severity == "critical"
                lines.append([
                    Span("  " + Fit.padLeft(String(alert.step), to: 8) + "  ", .text),
                    Span(
                        Fit.truncate(alert.severity.uppercased(), to: 8, ellipsis: glyphs.ellipsis) + "  ",
                        critical ? .pointCritical : .pointWarning),
                    Span(Fit.truncate(name, to: 24, ellipsis: glyphs.ellipsis) + "  ", .text, .bold),
                    Span(alert.detector + "  ", .label),
                    Span(alert.message, .dim),
                ])
            }
        }
        drawScrolled(lines, in: rect)
    }
}
