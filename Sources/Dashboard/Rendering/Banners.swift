import KLDetector
import KltopKit

extension Renderer {
    /// Rows banners may take at a screen height: fewer on small screens, so that a plot stays.
    static func bannerRows(screenHeight: Int) -> Int {
        screenHeight >= 24 ? 3 : screenHeight >= 8 ? 2 : 1
    }

    /// A coloured line per run with unacknowledged alerts (most urgent first, see
    /// ``DashboardState/banners``), naming the run, step, KL and z, and rlwatch's recommended action.
    ///
    /// The top line ends with a note that is never cut: how many runs did not fit, and the key that
    /// acknowledges. Its columns are reserved before the banner text is fitted, so a long run name or
    /// recommendation can never push it off the screen.
    mutating func drawBanners(_ banners: [Banner], in rect: Rect) {
        guard !rect.isEmpty, !banners.isEmpty else { return }
        let shown = min(banners.count, rect.height)
        let note = Self.bannerNote(hiddenRuns: banners.count - shown, width: rect.width)
        for row in 0..<shown {
            let line = rect.row(row)
            let banner = banners[row]
            let role: ColorRole = banner.alert.severity == .critical ? .bannerCritical : .bannerWarning
            grid.fill(line, with: Cell(" ", role: role))
            let noteColumns = row == 0 ? Span(note).columns : 0
            let textWidth = line.width - (noteColumns > 0 ? noteColumns + 1 : 0)
            let text = Self.bannerText(banner, glyphs: glyphs)
            grid.write(
                Fit.truncate(text, to: textWidth, ellipsis: glyphs.ellipsis), x: line.x, y: line.y,
                role: role, attributes: .bold, clip: line)
            if noteColumns > 0 {
                grid.write(
                    note, x: line.maxX - noteColumns, y: line.y, role: role, attributes: .bold, clip: line)
            }
        }
    }

    /// `CRITICAL run step 450 KL 0.2 z 79 (3 alerts) — the recommended action`.
    static func bannerText(_ banner: Banner, glyphs: GlyphSet) -> String {
        bannerSummary(banner) + glyphs.separator + banner.alert.recommendation
    }

    static func bannerSummary(_ banner: Banner) -> String {
        let alert = banner.alert
        let label = alert.severity == .critical ? "CRITICAL" : "WARNING"
        var text =
            "\(label) \(banner.run.name) step \(alert.step) KL \(Figures.short(alert.klDivergence)) "
            + "z \(Figures.short(alert.zScore, digits: 3))"
        if banner.pending > 1 { text += " (\(banner.pending) alerts)" }
        return text
    }

    /// `[+2 more runs, a: acknowledge]` when it takes at most a third of the line, else a shorter form
    /// within half of it (`[+2 more, a: ack]`, `[+2, a]`); cut only when even the shortest does not fit.
    static func bannerNote(hiddenRuns: Int, width: Int) -> String {
        let candidates: [String]
        if hiddenRuns > 0 {
            let runs = "+\(hiddenRuns) more run\(hiddenRuns == 1 ? "" : "s")"
            candidates = [
                "[\(runs), a: acknowledge]", "[+\(hiddenRuns) more, a: ack]", "[+\(hiddenRuns), a]",
            ]
        } else {
            candidates = ["[a: acknowledge]", "[a: ack]", "[a]"]
        }
        let fitting =
            candidates.first { Span($0).columns <= width / 3 }
            ?? candidates.dropFirst().first { Span($0).columns <= width / 2 }
            ?? candidates[candidates.count - 1]
        return Fit.truncate(fitting, to: width)
    }
}
