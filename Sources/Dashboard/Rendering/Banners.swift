import KLDetector
import KltopKit

/// One line of the banners: its text, its colour, and on the top line the note that is never cut.
struct BannerLine: Equatable {
    var text: String
    var role: ColorRole
    var note: String?
}

extension Renderer {
    /// Rows banners may take at a screen height: fewer on small screens, so that a plot stays.
    static func bannerRows(screenHeight: Int) -> Int {
        screenHeight >= 24 ? 4 : screenHeight >= 8 ? 2 : 1
    }

    /// Columns of a run's name in a banner, as in a panel's header.
    static let bannerNameColumns = 28

    /// Draws ``bannerLines(_:width:rows:glyphs:)`` into `rect`, a line per row.
    mutating func drawBanners(_ lines: [BannerLine], in rect: Rect) {
        for (row, banner) in lines.prefix(rect.height).enumerated() {
            let line = rect.row(row)
            grid.fill(line, with: Cell(" ", role: banner.role))
            grid.write(banner.text, x: line.x, y: line.y, role: banner.role, attributes: .bold, clip: line)
            if let note = banner.note {
                let columns = Span(note).columns
                grid.write(
                    note, x: line.maxX - columns, y: line.y, role: banner.role, attributes: .bold, clip: line)
            }
        }
    }

    /// The banner lines for `banners` (most urgent first, see ``DashboardState/banners``) in at most `rows`
    /// lines of `width` columns.
    ///
    /// A line per run names the run, step, KL and z. The top banner also carries rlwatch's recommended
    /// action in full, wrapped onto the lines below it when it does not fit on one, as long as it fits
    /// whole in `rows` (leaving the other runs out, counted); when it cannot, each run keeps its line and
    /// the action is cut (the alert history shows it). The top line ends with a note that is never cut:
    /// how many runs did not fit, and the key that acknowledges. Its columns are reserved before the
    /// banner text is fitted, so a long run name or action can never push it off the screen.
    static func bannerLines(_ banners: [Banner], width: Int, rows: Int, glyphs: GlyphSet) -> [BannerLine] {
        guard let top = banners.first, width > 0, rows > 0 else { return [] }
        let others = banners.count - 1
        // Room for the longest note any number of hidden runs would need, so that the wrapping below does
        // not depend on how many runs it leaves out.
        let reserved = (0...others).map { Span(bannerNote(hiddenRuns: $0, width: width)).columns }.max() ?? 0
        let firstWidth = max(1, width - reserved - 1)
        let indent = "  "
        let topText = bannerText(top, glyphs: glyphs)
        let wrapped = Fit.wrap(topText, firstWidth: firstWidth, width: max(1, width - indent.count))
        var topLines: [String]
        if wrapped.count <= rows - min(others, 1) {
            topLines = wrapped  // whole, leaving a line for the next run if there is one
        } else if others == 0 {
            // As much as fits, cut with an ellipsis at the end of the last row.
            topLines = Array(wrapped.prefix(rows))
            let rest = wrapped[(rows - 1)...].joined(separator: " ")
            let lineWidth = rows == 1 ? firstWidth : width - indent.count
            topLines[rows - 1] = Fit.truncate(rest, to: lineWidth, ellipsis: glyphs.ellipsis)
        } else {
            topLines = [Fit.truncate(topText, to: firstWidth, ellipsis: glyphs.ellipsis)]
        }
        let shownOthers = min(others, rows - topLines.count)
        let role = { (banner: Banner) -> ColorRole in
            banner.alert.severity == .critical ? .bannerCritical : .bannerWarning
        }
        var lines = topLines.enumerated().map { index, text in
            BannerLine(text: index == 0 ? text : indent + text, role: role(top))
        }
        lines[0].note = bannerNote(hiddenRuns: others - shownOthers, width: width)
        for banner in banners.dropFirst().prefix(shownOthers) {
            let text = Fit.truncate(bannerText(banner, glyphs: glyphs), to: width, ellipsis: glyphs.ellipsis)
            lines.append(BannerLine(text: text, role: role(banner)))
        }
        return lines
    }

    /// `CRITICAL run step 450 KL 0.2 z 79 (3 alerts) — the recommended action`.
    static func bannerText(_ banner: Banner, glyphs: GlyphSet) -> String {
        bannerSummary(banner, glyphs: glyphs) + glyphs.separator + banner.alert.recommendation
    }

    static func bannerSummary(_ banner: Banner, glyphs: GlyphSet) -> String {
        let alert = banner.alert
        let label = alert.severity == .critical ? "CRITICAL" : "WARNING"
        let name = Fit.elideMiddle(banner.run.name, to: bannerNameColumns, ellipsis: glyphs.ellipsis)
        var text =
            "\(label) \(name) step \(alert.step) KL \(Figures.short(alert.klDivergence)) "
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
