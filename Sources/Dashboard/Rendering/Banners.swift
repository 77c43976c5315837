import KLDetector
import KltopKit

extension Renderer {
    /// A coloured line per run with unacknowledged alerts, naming the run, step, KL and z, and rlwatch's
    /// recommended action; the last line counts the runs that did not fit.
    mutating func drawBanners(_ banners: [(run: RunState, alert: Alert, pending: Int)], in rect: Rect) {
        for row in 0..<rect.height {
            let line = rect.row(row)
            let banner = banners[row]
            let role: ColorRole = banner.alert.severity == .critical ? .bannerCritical : .bannerWarning
            grid.fill(line, with: Cell(" ", role: role))
            let hidden = row == rect.height - 1 ? banners.count - rect.height : 0
            let text = Self.bannerText(
                banner.run, banner.alert, pending: banner.pending, hiddenRuns: hidden, glyphs: glyphs)
            grid.write(
                Fit.truncate(text, to: line.width, ellipsis: glyphs.ellipsis), x: line.x, y: line.y,
                role: role,
                attributes: .bold, clip: line)
        }
    }

    static func bannerText(_ run: RunState, _ alert: Alert, pending: Int, hiddenRuns: Int, glyphs: GlyphSet)
        -> String
    {
        let label = alert.severity == .critical ? "CRITICAL" : "WARNING"
        var text =
            "\(label) \(run.name) step \(alert.step) KL \(Figures.short(alert.klDivergence)) "
            + "z \(Figures.short(alert.zScore, digits: 3))\(glyphs.separator)\(alert.recommendation)"
        var notes: [String] = []
        if pending > 1 { notes.append("\(pending) alerts") }
        if hiddenRuns > 0 { notes.append("+\(hiddenRuns) more run\(hiddenRuns == 1 ? "" : "s")") }
        notes.append("a: acknowledge")
        text += "  [" + notes.joined(separator: ", ") + "]"
        return text
    }
}
