import KLDetector
import KltopKit

/// One run's series in a plot.
struct PlotSeries {
    let run: RunState
    /// Samples shown (fewer than the history holds while paused).
    let count: Int
    /// The overlay's run colour; nil colours each point by the detector's status at its step.
    let role: ColorRole?
    /// Wins cells shared with other series (the focused run in an overlay).
    let isOnTop: Bool
}

extension Renderer {
    /// A run's panel: its header line, then its plot.
    mutating func drawPanel(_ index: Int, in rect: Rect, focused: Bool) {
        guard !rect.isEmpty else { return }
        let run = state.runs[index]
        drawRunHeader(run, in: rect.row(0), focused: focused && state.runs.count > 1)
        if let problem = run.keyProblem {
            // Nothing to plot: say why, where the plot would be.
            let body = rect.droppingTop(1)
            grid.fill(body)
            let text = Self.keyProblemExplanation(problem)
            let lines = Fit.wrap(text, firstWidth: body.width - 2, width: body.width - 2)
            for (row, line) in lines.prefix(body.height).enumerated() {
                let last = row == body.height - 1 && lines.count > body.height
                grid.write(
                    last
                        ? Fit.truncate(
                            line + " " + String(glyphs.ellipsis), to: body.width - 2,
                            ellipsis: glyphs.ellipsis)
                        : line,
                    x: body.x + 2, y: body.y + row, role: .pointWarning, clip: body)
            }
            return
        }
        let series = PlotSeries(run: run, count: state.visibleCount(of: run), role: nil, isOnTop: true)
        drawPlot([series], band: series, in: rect.droppingTop(1))
    }

    /// Every run in one plot, each in its own colour, under a legend line per run; the band is the focused
    /// run's.
    mutating func drawOverlay(_ body: Rect, focus: Int, order: [Int]) {
        let runs = state.runs
        let legendRows = min(order.count, max(1, min(body.height - 4, body.height / 3)))
        let legendOrder = order
        let shown = legendOrder.count > legendRows ? legendRows - 1 : legendOrder.count
        for (row, index) in legendOrder.prefix(shown).enumerated() {
            drawRunLine(
                index, in: body.row(row), focused: index == focus, nameRole: .run(runs[index].id.rawValue))
        }
        if shown < legendOrder.count {
            let line = body.row(legendRows - 1)
            grid.fill(line)
            let more = legendOrder.count - shown
            grid.write("+\(more) more", x: line.x, y: line.y, role: .dim, clip: line)
        }
        var series: [PlotSeries] = []
        for index in order where index != focus {
            let run = runs[index]
            series.append(
                PlotSeries(
                    run: run, count: state.visibleCount(of: run), role: .run(run.id.rawValue), isOnTop: false)
            )
        }
        let focused = runs[focus]
        let top = PlotSeries(
            run: focused, count: state.visibleCount(of: focused), role: .run(focused.id.rawValue),
            isOnTop: true)
        series.append(top)
        drawPlot(series, band: top, in: body.droppingTop(legendRows))
    }

    /// A plot: y labels on the left, band labels on the right (when wide), the x axis below (when tall).
    mutating func drawPlot(_ series: [PlotSeries], band: PlotSeries, in area: Rect) {
        guard !area.isEmpty else { return }
        grid.fill(area)
        let hasAxis = area.height >= 3
        let plotRows = hasAxis ? area.droppingBottom(1) : area
        let margins = Self.plotMargins(
            areaWidth: area.width, plotRows: plotRows.height, state.settings, glyphs)
        let labelWidth = margins.left
        let k = state.settings.sigmaMultiplier
        let bandLabel = Self.bandLabel(state.settings, glyphs)
        let bandLabelWidth = margins.right
        let plot = plotRows.droppingLeft(labelWidth).droppingRight(bandLabelWidth)
        guard !plot.isEmpty else { return }
        let options = state.options
        let dotColumns = plot.width * glyphs.dotsAcross
        let dotRows = plot.height * glyphs.dotsDown
        let longest = series.map(\.count).max() ?? 0
        let xScale = Self.xScale(count: longest, dotColumns: dotColumns, zoom: options.zoom)

        let columns: [[ValueSummary]] = series.map { one in
            (0..<dotColumns).map {
                one.run.history.summary(of: xScale.range(ofColumn: $0).clamped(to: 0..<one.count))
            }
        }
        let smoothed: [[Double]]? =
            options.smoothing > 0
            ? columns.map { Smoothing.exponentialMovingAverage($0.map(\.mean), weight: options.smoothing) }
            : nil
        let bandColumns = cellBands(columns[columns.count - 1], cells: plot.width)
        let frozen = frozenBaseline(of: band)

        // The vertical range holds the data, the band, and the frozen baseline, or only their bulk (see
        // ``PlotExtent``). KL is nonnegative in most logs: when every value in view is, the band's lower
        // edge is cut at 0 (drawn at the axis) rather than taking the axis below zero.
        var extent = PlotExtent(isLog: options.logScale)
        var isNonNegative = true
        for summaries in columns {
            for summary in summaries {
                if summary.hasNegativeInfinity { isNonNegative = false }
                guard summary.finiteCount > 0 else { continue }
                extent.includeColumn(minimum: summary.minimum, maximum: summary.maximum)
                if summary.minimum < 0 { isNonNegative = false }
            }
        }
        for cell in bandColumns {
            if let cell {
                let lower = cell.mean - k * cell.std
                extent.includeBand(
                    lower: isNonNegative ? max(0, lower) : lower, upper: cell.mean + k * cell.std)
            }
        }
        if let frozen { extent.includeMarker(frozen.mean) }
        let bounds = extent.bounds(ignoringOutliers: options.ignoresOutliers)
        let yScale = YScale.fit(minimum: bounds.low, maximum: bounds.high, isLog: options.logScale)

        // Behind the points: the band, the critical line, the frozen baseline. The band is a shaded
        // background that the points keep (applied once they are drawn), or dotted cells around them.
        var bandRows: [ClosedRange<Int>?] = Array(repeating: nil, count: plot.width)
        let bandCell = options.shadesBand ? Cell(" ", role: .band) : Cell(glyphs.bandFill, role: .band)
        for (cellX, cell) in bandColumns.enumerated() {
            guard let cell else { continue }
            let x = plot.x + cellX
            let upper = cell.mean + k * cell.std
            let lower = cell.mean - k * cell.std
            if let top = yScale.cellRow(upper, rows: plot.height),
                let bottom = yScale.cellRow(lower, rows: plot.height), top <= bottom
            {
                bandRows[cellX] = top...bottom
                for row in top...bottom { grid[x, plot.y + row] = bandCell }
            }
            let critical = cell.mean + 1.5 * k * cell.std
            if yScale.contains(critical), let row = yScale.cellRow(critical, rows: plot.height) {
                grid[x, plot.y + row] = Cell(glyphs.criticalLine, role: .criticalLine)
            }
        }
        if let frozen, let row = yScale.cellRow(frozen.mean, rows: plot.height) {
            for x in plot.x..<plot.maxX {
                grid[x, plot.y + row] = Cell(glyphs.frozenLine, role: .frozenMarker)
            }
        }

        // The points: each column's span of values (or the smoothed value), joined to the previous column.
        var canvas = DotCanvas(columns: plot.width, rows: plot.height, glyphs: glyphs)
        for (seriesIndex, one) in series.enumerated() {
            var previous: (low: Int, high: Int)?
            for (column, summary) in columns[seriesIndex].enumerated() where !summary.isEmpty {
                guard var span = dotSpan(summary, smoothed: smoothed?[seriesIndex][column], yScale, dotRows)
                else {
                    previous = nil
                    continue
                }
                let own = span
                if let previous {
                    if span.low > previous.high + 1 { span.low = previous.high + 1 }
                    if span.high < previous.low - 1 { span.high = previous.low - 1 }
                }
                let role = one.role ?? StatusStyle.role(summary.worst)
                let rank = one.role == nil ? StatusStyle.rank(summary.worst) : (one.isOnTop ? 1 : 0)
                canvas.setSpan(x: column, from: span.low, to: span.high, role: role, rank: rank)
                previous = own
            }
        }
        canvas.draw(into: &grid, at: (plot.x, plot.y)) { _ in [] }
        drawOutlierMarks(series, columns: columns, yScale: yScale, plot: plot)
        if options.shadesBand {
            for (cellX, rows) in bandRows.enumerated() {
                guard let rows else { continue }
                for row in rows { grid[plot.x + cellX, plot.y + row].backdrop = .bandShade }
            }
        }

        if labelWidth > 0 { drawYLabels(yScale, plot: plot, labelWidth: labelWidth) }
        if bandLabelWidth > 0 {
            drawBandLabels(
                bandColumns, frozen: frozen, yScale: yScale, plot: plot, k: k, bandLabel: bandLabel,
                width: bandLabelWidth - 1)
        }
        if hasAxis {
            drawXAxis(
                band, xScale: xScale, plot: plot, row: area.maxY - 1, labelWidth: labelWidth,
                frozen: frozen != nil)
        }
        if let reading = state.inspect?.readings[band.run.id], reading.index < band.count,
            let dot = xScale.column(ofIndex: reading.index)
        {
            // The inspect cursor: its cell column in reverse video, down to the axis, points and all.
            let x = plot.x + dot / glyphs.dotsAcross
            for y in plot.y..<(hasAxis ? plot.maxY + 1 : plot.maxY) { grid[x, y].attributes.insert(.reverse) }
        }
    }

    /// The y labels' width on the left and the band labels' on the right of a plot in an area this wide.
    static func plotMargins(areaWidth: Int, plotRows: Int, _ settings: DetectorSettings, _ glyphs: GlyphSet)
        -> (left: Int, right: Int)
    {
        // As wide as the longest band label ("crit", "+3σ", "+4.5σ", "+3sd"), and a space before it.
        let right =
            areaWidth >= 60 && plotRows >= 3 ? 1 + max(4, Span(bandLabel(settings, glyphs)).columns) : 0
        return (areaWidth >= 30 ? 10 : 0, right)
    }

    static func bandLabel(_ settings: DetectorSettings, _ glyphs: GlyphSet) -> String {
        "+\(Figures.short(settings.sigmaMultiplier, digits: 2))\(glyphs.deviationLabel)"
    }

    static func xScale(count: Int, dotColumns: Int, zoom: ViewOptions.Zoom) -> XScale {
        zoom == .wholeRun
            ? XScale.wholeRun(count: count, columns: dotColumns)
            : XScale.recent(count: count, columns: dotColumns)
    }

    /// The x scale of a plot as wide as the screen (every plot is), for the inspect cursor's moves.
    static func xScale(count: Int, screenWidth: Int, options: ViewOptions, settings: DetectorSettings)
        -> XScale
    {
        let margins = plotMargins(areaWidth: screenWidth, plotRows: 3, settings, options.glyphs)
        let cells = max(1, screenWidth - margins.left - margins.right)
        return xScale(count: count, dotColumns: cells * options.glyphs.dotsAcross, zoom: options.zoom)
    }

    /// The band (mean, std) at the last step of each cell column; nil where the detector was warming up.
    private func cellBands(_ dotColumns: [ValueSummary], cells: Int) -> [(mean: Double, std: Double)?] {
        let across = glyphs.dotsAcross
        return (0..<cells).map { cell in
            var merged = ValueSummary()
            for dot in (cell * across)..<min(dotColumns.count, (cell + 1) * across) {
                merged.merge(dotColumns[dot])
            }
            guard !merged.isEmpty, merged.lastMean.isFinite, merged.lastStd.isFinite else { return nil }
            return (Double(merged.lastMean), Double(merged.lastStd))
        }
    }

    /// The frozen baseline of a run, once it locked within the samples shown.
    private func frozenBaseline(of series: PlotSeries) -> FrozenBaseline? {
        guard let lock = series.run.frozenLockIndex, lock < series.count else { return nil }
        return series.run.detector.frozenBaseline
    }

    /// The dot rows a column covers: its smoothed value, or the span of its values (infinities at the edges).
    private func dotSpan(_ summary: ValueSummary, smoothed: Double?, _ yScale: YScale, _ dotRows: Int)
        -> (low: Int, high: Int)?
    {
        if let smoothed {
            guard let row = yScale.dotRow(smoothed, dotRows: dotRows) else { return nil }
            return (row, row)
        }
        var low: Int?
        var high: Int?
        if summary.finiteCount > 0 {
            low = yScale.dotRow(summary.minimum, dotRows: dotRows)
            high = yScale.dotRow(summary.maximum, dotRows: dotRows)
        }
        if summary.hasPositiveInfinity { high = dotRows - 1 }
        if summary.hasNegativeInfinity { low = 0 }
        guard let bottom = low ?? high, let top = high ?? low else { return nil }
        return (bottom, top)
    }

    /// Values beyond the scale (left out of it, or infinite): a mark at the plot's top or bottom edge in
    /// the cell column that holds them, with the most extreme value after it (`▲ 40`, `▼ -3.2`, `▲ inf`).
    /// Where labels would collide the more extreme value keeps its label; the others keep their mark.
    private mutating func drawOutlierMarks(
        _ series: [PlotSeries], columns: [[ValueSummary]], yScale: YScale, plot: Rect
    ) {
        struct Mark {
            var cell: Int
            var value: Double
            var role: ColorRole
            var isAbove: Bool
        }
        var marks: [Mark] = []
        let across = glyphs.dotsAcross
        for cell in 0..<plot.width {
            var above: Mark?
            var below: Mark?
            for (seriesIndex, one) in series.enumerated() {
                for dot in (cell * across)..<min(columns[seriesIndex].count, (cell + 1) * across) {
                    let summary = columns[seriesIndex][dot]
                    let role = one.role ?? StatusStyle.role(summary.worst)
                    let high = summary.hasPositiveInfinity ? Double.infinity : summary.maximum
                    if summary.finiteCount > 0 || summary.hasPositiveInfinity,
                        yScale.isAbove(high), high > (above?.value ?? -.infinity)
                    {
                        above = Mark(cell: cell, value: high, role: role, isAbove: true)
                    }
                    let low = summary.hasNegativeInfinity ? -Double.infinity : summary.minimum
                    if summary.finiteCount > 0 || summary.hasNegativeInfinity,
                        yScale.isBelow(low), low < (below?.value ?? .infinity)
                    {
                        below = Mark(cell: cell, value: low, role: role, isAbove: false)
                    }
                }
            }
            marks += [above, below].compactMap { $0 }
        }
        guard !marks.isEmpty else { return }
        for mark in marks {
            let row = mark.isAbove ? 0 : plot.height - 1
            grid[plot.x + mark.cell, plot.y + row] = Cell(
                mark.isAbove ? glyphs.aboveMark : glyphs.belowMark, role: mark.role, attributes: .bold)
        }
        // The columns each edge row's marks and labels hold; a label keeps a column clear of the others.
        var taken: [Bool: [Range<Int>]] = [:]
        for mark in marks { taken[mark.isAbove, default: []].append(mark.cell..<(mark.cell + 1)) }
        for mark in marks.sorted(by: { abs($0.value) > abs($1.value) }) {
            let text = mark.value.isInfinite ? "inf" : Figures.short(mark.value, digits: 3)
            let own = mark.cell..<(mark.cell + 1)
            func isFree(_ columns: Range<Int>) -> Bool {
                guard columns.lowerBound >= 0, columns.upperBound <= plot.width else { return false }
                let padded = (columns.lowerBound - 1)..<(columns.upperBound + 1)
                return !(taken[mark.isAbove] ?? []).contains { $0 != own && $0.overlaps(padded) }
            }
            // After the mark, else before it where the plot's edge or another label is in the way.
            let after = (mark.cell + 1)..<(mark.cell + 1 + text.count)
            let before = (mark.cell - text.count)..<mark.cell
            guard let place = [after, before].first(where: isFree) else { continue }
            taken[mark.isAbove, default: []].append(place)
            let row = plot.y + (mark.isAbove ? 0 : plot.height - 1)
            grid.write(text, x: plot.x + place.lowerBound, y: row, role: mark.role, clip: plot)
        }
    }

    private mutating func drawYLabels(_ yScale: YScale, plot: Rect, labelWidth: Int) {
        let rows = plot.height
        var labelled: [(row: Int, value: Double)] = [(0, yScale.value(atFraction: 1))]
        if rows >= 2 { labelled.append((rows - 1, yScale.value(atFraction: 0))) }
        if rows >= 5 {
            // A round value near the middle (a multiple of the scale's tick), else the middle row's value.
            let middle = rows / 2
            if let value = yScale.roundValue(near: 1 - (Double(middle) + 0.5) / Double(rows)),
                let row = yScale.cellRow(value, rows: rows), row > 0, row < rows - 1
            {
                labelled.append((row, value))
            } else {
                labelled.append((middle, yScale.value(atFraction: 1 - (Double(middle) + 0.5) / Double(rows))))
            }
        }
        let x = plot.x - labelWidth
        for row in 0..<rows { grid[plot.x - 1, plot.y + row] = Cell(glyphs.verticalAxis, role: .axis) }
        for (row, value) in labelled {
            let text = Fit.padLeft(Figures.short(value, digits: 3), to: labelWidth - 1)
            grid.write(
                text, x: x, y: plot.y + row, role: .label,
                clip: Rect(x: x, y: plot.y, width: labelWidth - 1, height: rows))
            grid[plot.x - 1, plot.y + row] = Cell(glyphs.tick, role: .axis)
        }
    }

    /// "+3σ", "crit" and "frz" at the right of the band's last column.
    private mutating func drawBandLabels(
        _ bands: [(mean: Double, std: Double)?], frozen: FrozenBaseline?, yScale: YScale, plot: Rect,
        k: Double, bandLabel: String, width: Int
    ) {
        let clip = Rect(x: plot.maxX + 1, y: plot.y, width: width, height: plot.height)
        var used: Set<Int> = []
        func label(_ text: String, at value: Double, _ role: ColorRole) {
            guard yScale.contains(value), let row = yScale.cellRow(value, rows: plot.height),
                !used.contains(row)
            else {
                return
            }
            used.insert(row)
            grid.write(text, x: clip.x, y: plot.y + row, role: role, clip: clip)
        }
        if let frozen { label("frz", at: frozen.mean, .frozenMarker) }
        guard let last = bands.last(where: { $0 != nil }), let band = last else { return }
        label("crit", at: band.mean + 1.5 * k * band.std, .criticalLine)
        label(bandLabel, at: band.mean + k * band.std, .band)
    }

    /// The x axis: round step numbers at the columns that hold them, the scale on the right (when wide),
    /// and the frozen baseline's lock mark. The labels stay put as steps arrive (the latest step is in the
    /// header): the row is rewritten when a new tick is reached, the scale doubles or the strip jumps.
    private mutating func drawXAxis(
        _ series: PlotSeries, xScale: XScale, plot: Rect, row: Int, labelWidth: Int, frozen: Bool
    ) {
        let clip = Rect(x: plot.x, y: row, width: plot.width, height: 1)
        for x in plot.x..<plot.maxX { grid[x, row] = Cell(glyphs.horizontalAxis, role: .axis) }
        if labelWidth > 0 { grid[plot.x - 1, row] = Cell(glyphs.corner, role: .axis) }
        let perCell = xScale.stepsPerColumn * glyphs.dotsAcross
        let scaleText =
            state.options.zoom == .recent ? "recent" : perCell == 1 ? "1 step/col" : "\(perCell) steps/col"
        // The scale label has a place of its own on wide plots; narrower ones give the room to step numbers.
        let showsScale = plot.width >= 60
        let ticksEnd = showsScale ? plot.maxX - scaleText.count - XTicks.gap : plot.maxX
        let lockColumn =
            frozen
            ? series.run.frozenLockIndex.flatMap(xScale.column(ofIndex:)).map { $0 / glyphs.dotsAcross } : nil
        for tick in xTicks(series, xScale: xScale, cells: plot.width).ticks {
            let x = plot.x + tick.column
            guard x + 1 + tick.label.count <= ticksEnd else { break }
            if let lockColumn, (tick.column...(tick.column + tick.label.count)).contains(lockColumn) {
                continue
            }
            grid[x, row] = Cell(glyphs.axisTick, role: .axis)
            grid.write(tick.label, x: x + 1, y: row, role: .label, clip: clip)
        }
        if showsScale {
            grid.write(scaleText, x: plot.maxX - scaleText.count, y: row, role: .label, clip: clip)
        }
        if let lockColumn { grid[plot.x + lockColumn, row] = Cell(glyphs.lockMark, role: .frozenMarker) }
    }

    /// The step ticks of a plot `cells` columns wide: from the first and last step each cell column shows.
    func xTicks(_ series: PlotSeries, xScale: XScale, cells: Int) -> XTicks {
        let across = glyphs.dotsAcross
        let history = series.run.history
        let columns: [(first: Int64, last: Int64)?] = (0..<cells).map { cell in
            let first = xScale.range(ofColumn: cell * across).lowerBound
            let end = min(series.count, xScale.range(ofColumn: cell * across + across - 1).upperBound)
            guard first < end else { return nil }
            return (history.step(at: first), history.step(at: end - 1))
        }
        return XTicks.place(columns: columns)
    }
}
