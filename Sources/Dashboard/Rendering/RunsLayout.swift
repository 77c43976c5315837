extension Renderer {
    /// Rows a run's panel needs to be drawn beside others: header, three plot rows, the x axis.
    static let minimumPanelHeight = 5
    /// The fewest rows the focused run's panel shrinks to before it becomes a line of the list: the header
    /// and two plot rows (no axis).
    static let smallestPanelHeight = 3

    /// The runs: a panel each when they fit; else the focused run's panel (down to
    /// ``smallestPanelHeight`` rows) and a line for each other run; else a line per run. Overlay mode puts
    /// every run in one plot with a legend.
    mutating func drawRuns(_ body: Rect) {
        guard !body.isEmpty else { return }
        let runs = state.runs
        guard !runs.isEmpty else {
            grid.write(
                Fit.truncate("no runs yet: waiting for logs", to: body.width, ellipsis: glyphs.ellipsis),
                x: body.x, y: body.y, role: .dim, clip: body)
            // Why not, when following has said: a folder with nothing in it yet, one kltop may not list.
            for (row, notice) in state.sourceNotices.suffix(body.height - 1).enumerated() {
                grid.write(
                    Fit.truncate(
                        "\(notice.path): \(notice.message)", to: body.width, ellipsis: glyphs.ellipsis),
                    x: body.x, y: body.y + 1 + row, role: notice.isProblem ? .pointWarning : .dim, clip: body)
            }
            return
        }
        let order = state.runOrder
        guard !order.isEmpty else {
            grid.write(
                Fit.truncate("no run name holds \"\(state.filter)\" (Esc clears the filter)", to: body.width),
                x: body.x, y: body.y, role: .dim, clip: body)
            return
        }
        let focus = order.contains(state.focus) ? state.focus : order[0]
        if state.options.layout == .overlay && body.height >= Self.minimumPanelHeight {
            drawOverlay(body, focus: focus, order: order)
            return
        }
        let panel = Self.minimumPanelHeight
        let position = order.firstIndex(of: focus)!
        if body.height >= order.count * panel {
            let base = body.height / order.count
            let extra = body.height % order.count
            var y = body.y
            for (place, index) in order.enumerated() {
                let height = base + (place < extra ? 1 : 0)
                drawPanel(
                    index, in: Rect(x: body.x, y: y, width: body.width, height: height),
                    focused: index == focus)
                y += height
            }
        } else if body.height >= Self.smallestPanelHeight + (order.count > 1 ? 1 : 0) {
            // The panel keeps its comfortable height while other runs need lines, then shrinks, keeping one
            // line for the list (which says how many runs it leaves out).
            let listRows = min(order.count - 1, max(1, body.height - panel))
            drawPanel(focus, in: body.droppingBottom(listRows), focused: true)
            // The other runs in their order (Tab moves the panel, not every line of the list), from the
            // page of the list the focused run is on: PgDn moves the panel and the list a page on.
            let others = order.filter { $0 != focus }
            let page = max(1, listRows - 1)
            let start = min(position / page * page, max(0, others.count - 1))
            drawRunList(Array(others[start...]), in: body.bottom(listRows), focus: nil)
        } else {
            // Keep the focused run in view: start the list so that it is on screen.
            let first = max(0, min(position - body.height / 2, order.count - body.height))
            drawRunList(Array(order[first...]), in: body, focus: focus)
        }
    }

    /// One line per run: header figures and a sparkline of the whole run; the last line says how many did
    /// not fit.
    mutating func drawRunList(_ indices: [Int], in rect: Rect, focus: Int?) {
        guard !rect.isEmpty else { return }
        let shown = indices.count > rect.height ? rect.height - 1 : indices.count
        for (row, index) in indices.prefix(shown).enumerated() {
            drawRunLine(index, in: rect.row(row), focused: index == focus)
        }
        if shown < indices.count {
            let line = rect.row(rect.height - 1)
            grid.fill(line)
            let more = indices.count - shown
            grid.write(
                Fit.truncate(
                    "+\(more) more run\(more == 1 ? "" : "s") (tab)", to: line.width,
                    ellipsis: glyphs.ellipsis),
                x: line.x, y: line.y, role: .dim, clip: line)
        }
    }

    mutating func drawRunLine(_ index: Int, in rect: Rect, focused: Bool, nameRole: ColorRole? = nil) {
        guard !rect.isEmpty else { return }
        grid.fill(rect)
        let run = state.runs[index]
        let sparkWidth = rect.width >= 50 ? min(24, rect.width / 4) : 0
        let textRect = rect.droppingRight(sparkWidth == 0 ? 0 : sparkWidth + 1)
        let spans = HeaderSegment.fit(
            headerSegments(run, focused: focused, nameRole: nameRole, compact: true), width: textRect.width,
            defaultRole: .text)
        grid.write(spans, x: textRect.x, y: textRect.y, clip: textRect)
        if sparkWidth > 0 { drawSparkline(run, in: rect.droppingLeft(rect.width - sparkWidth)) }
    }

    /// The whole run in a line of eighth blocks (or ASCII levels): the maximum of each column, so spikes
    /// show, coloured by the worst status. Columns hold a power-of-two number of steps, as plots do.
    mutating func drawSparkline(_ run: RunState, in rect: Rect) {
        let count = state.visibleCount(of: run)
        guard !rect.isEmpty, count > 0 else { return }
        let scale = XScale.wholeRun(count: count, columns: rect.width)
        let summaries = (0..<rect.width).map {
            run.history.summary(of: scale.range(ofColumn: $0).clamped(to: 0..<count))
        }
        let maxima = summaries.filter { !$0.isEmpty && $0.finiteCount > 0 }
        let low = maxima.map(\.maximum).min() ?? 0
        let high = maxima.map(\.maximum).max() ?? 1
        let levels: [Unicode.Scalar] =
            glyphs == .ascii ? [".", ":", "-", "=", "+", "*", "#", "@"] : GlyphSet.eighths
        for (column, summary) in summaries.enumerated() where !summary.isEmpty {
            var level = levels.count - 1
            if summary.finiteCount > 0 && !summary.hasPositiveInfinity {
                let fraction = high > low ? (summary.maximum - low) / (high - low) : 0.5
                level = min(levels.count - 1, max(0, Int(fraction * Double(levels.count - 1) + 0.5)))
            } else if !summary.hasPositiveInfinity {
                continue
            }
            grid[rect.x + column, rect.y] = Cell(levels[level], role: StatusStyle.role(summary.worst))
        }
    }
}
