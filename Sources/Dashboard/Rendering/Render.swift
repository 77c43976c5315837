/// Draws the dashboard into a grid of `width` × `height` cells. Pure: the same state and size always give
/// the same grid. Any size works, down to 1×1 (and 0×0, an empty grid); less fits, less is shown.
public func render(_ state: DashboardState, width: Int, height: Int) -> Grid {
    var renderer = Renderer(state: state, grid: Grid(width: width, height: height))
    renderer.draw()
    if state.options.glyphs == .ascii { renderer.grid.transliterateToASCII() }
    return renderer.grid
}

/// Carries the state and the grid being drawn through the drawing functions (one file per part).
struct Renderer {
    let state: DashboardState
    var grid: Grid

    var glyphs: GlyphSet { state.options.glyphs }

    mutating func draw() {
        let full = Rect(x: 0, y: 0, width: grid.width, height: grid.height)
        guard !full.isEmpty else { return }
        var body = full
        if full.height >= 3 {
            drawStatusBar(full.row(0))
            body = body.droppingTop(1)
        }
        switch state.screen {
        case .help:
            drawHelp(body)
            return
        case .alertHistory:
            drawAlertHistory(body)
            return
        case .runs:
            break
        }
        let banners = state.banners
        if !banners.isEmpty {
            let rows = min(Self.bannerRows(screenHeight: full.height), body.height > 1 ? body.height - 1 : 1)
            let lines = Self.bannerLines(banners, width: body.width, rows: rows, glyphs: glyphs)
            drawBanners(lines, in: body.top(lines.count))
            body = body.droppingTop(lines.count)
        }
        drawRuns(body)
    }
}
