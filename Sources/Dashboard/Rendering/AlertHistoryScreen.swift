import KltopKit

extension Renderer {
    /// Every delivered alert, newest first, in aligned columns: step, severity, run, KL, z, mean and σ,
    /// whether it was acknowledged, and rlwatch's recommended action below it (wrapped: the banners may have
    /// had to cut it). Then the alerts rlwatch itself recorded, if any.
    mutating func drawAlertHistory(_ rect: Rect) {
        guard !rect.isEmpty else { return }
        drawScrolled(Self.alertHistoryLines(state, width: rect.width), in: rect)
    }

    /// The alert history's lines for a screen `width` columns wide (also how far it scrolls).
    static func alertHistoryLines(_ state: DashboardState, width: Int) -> [[Span]] {
        let glyphs = state.options.glyphs
        let history = state.alertHistory
        var lines: [[Span]] = [
            [
                Span("Alert history", .header, .bold),
                Span("  \(history.count) delivered · h or Esc closes · a acknowledges", .dim),
            ]
        ]
        if history.isEmpty { lines.append([Span("no alerts delivered", .dim)]) }
        let names = Dictionary(state.runs.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        // Each column as wide as its widest entry (names at most 24 columns), so the columns line up.
        let shownNames = history.map {
            Fit.elideMiddle(names[$0.run] ?? "?", to: 24, ellipsis: glyphs.ellipsis)
        }
        let stepWidth = max(8, history.map { String($0.alert.step).count }.max() ?? 0)
        let nameWidth = shownNames.map { CellWidth.columns($0) }.max() ?? 0
        let figures = history.map { record in
            [
                Figures.short(record.alert.klDivergence), Figures.short(record.alert.zScore, digits: 3),
                Figures.short(record.alert.rollingMean), Figures.short(record.alert.rollingStd),
            ]
        }
        let figureWidths = (0..<4).map { column in figures.map { $0[column].count }.max() ?? 0 }
        let labels = ["KL", "z", glyphs.meanLabel, glyphs.deviationLabel]
        // The action lines start under the severity (after the mark and the step), and keep to the screen
        // less the column it leaves free on the left.
        let indent = String(repeating: " ", count: 2 + stepWidth + 2)
        let actionWidth = max(20, width - 1 - indent.count)
        for (index, record) in history.enumerated() {
            let alert = record.alert
            let critical = alert.severity == .critical
            var line = [
                Span(record.isAcknowledged ? "  " : "• ", .text, .bold),
                Span(Fit.padLeft(String(alert.step), to: stepWidth) + "  ", .text),
                Span((critical ? "CRITICAL" : "WARNING ") + "  ", critical ? .pointCritical : .pointWarning),
                Span(Fit.padRight(shownNames[index], to: nameWidth), .text, .bold),
            ]
            for (column, label) in labels.enumerated() {
                line.append(Span("  " + label + " ", .label))
                let value = figures[index][column]
                line.append(Span(column == 3 ? value : Fit.padRight(value, to: figureWidths[column])))
            }
            if !record.undeliveredTo.isEmpty {
                line.append(
                    Span("  not delivered to " + record.undeliveredTo.joined(separator: ", "), .pointCritical)
                )
            }
            lines.append(line)
            for text in Fit.wrap(alert.recommendation, firstWidth: actionWidth, width: actionWidth) {
                lines.append([Span(indent + text, .dim)])
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
            let recordedNames = recorded.map { Fit.elideMiddle($0.0, to: 24, ellipsis: glyphs.ellipsis) }
            let recordedNameWidth = recordedNames.map { CellWidth.columns($0) }.max() ?? 0
            let recordedStepWidth = max(8, recorded.map { String($0.1.step).count }.max() ?? 0)
            for (index, (_, alert)) in recorded.enumerated() {
                let critical = alert.severity == "critical"
                lines.append([
                    Span("  " + Fit.padLeft(String(alert.step), to: recordedStepWidth) + "  ", .text),
                    Span(
                        Fit.padRight(
                            Fit.truncate(alert.severity.uppercased(), to: 8, ellipsis: glyphs.ellipsis), to: 8
                        )
                            + "  ",
                        critical ? .pointCritical : .pointWarning),
                    Span(Fit.padRight(recordedNames[index], to: recordedNameWidth) + "  ", .text, .bold),
                    Span(alert.detector + "  ", .label),
                    Span(alert.message, .dim),
                ])
            }
        }
        if !state.deliveryLines.isEmpty {
            lines.append([])
            lines.append([
                Span("Delivery", .header, .bold),
                Span(
                    state.deliveryLines.count == 1
                        ? "  the last line from the channels and --on-alert"
                        : "  the last \(state.deliveryLines.count) lines from the channels and --on-alert",
                    .dim),
            ])
            for line in state.deliveryLines {
                for (index, text) in Fit.wrap(line, firstWidth: width - 3, width: width - 5).enumerated() {
                    lines.append([Span((index == 0 ? "  " : "    ") + text, .text)])
                }
            }
        }
        return lines
    }
}
