import KltopKit

extension Renderer {
    /// The top line: the detector settings the tuning keys change, the view modes, pause, and the help key.
    mutating func drawStatusBar(_ rect: Rect) {
        grid.fill(rect, with: Cell(" ", role: .header))
        let settings = state.settings
        let options = state.options
        var segments: [HeaderSegment] = [
            HeaderSegment("kltop", priority: 50, attributes: .bold),
            HeaderSegment(
                "\(glyphs.sigmaSetting) \(Figures.short(settings.sigmaMultiplier, digits: 3))", priority: 90),
            HeaderSegment("window \(settings.rollingWindow)", priority: 80),
            HeaderSegment("warmup \(settings.warmupSteps)", priority: 60),
            HeaderSegment(settings.baselineMode.rawValue, priority: 85),
        ]
        if !settings.enabled { segments.append(HeaderSegment("detector off", priority: 95)) }
        if options.logScale { segments.append(HeaderSegment("log", priority: 40)) }
        if options.smoothing > 0 {
            segments.append(HeaderSegment("ema \(Figures.short(options.smoothing, digits: 2))", priority: 35))
        }
        if !options.ignoresOutliers { segments.append(HeaderSegment("full range", priority: 34)) }
        if options.zoom == .recent { segments.append(HeaderSegment("recent", priority: 38)) }
        if options.layout == .overlay { segments.append(HeaderSegment("overlay", priority: 36)) }
        if state.inspect != nil {
            segments.append(
                HeaderSegment(
                    "INSPECT \(glyphs == .ascii ? "<- ->" : "← →"), shift \(glyphs == .ascii ? "+/-" : "±")10, esc",
                    priority: 98, role: .selection, attributes: .bold))
        }
        if state.isPaused {
            segments.append(
                HeaderSegment(
                    "PAUSED +\(state.samplesSincePause)", priority: 100, role: .bannerWarning,
                    attributes: .bold))
        }
        let problems = state.sourceNotices.count { $0.isProblem }
        if problems > 0 && !state.runs.isEmpty {
            // Shown in full on the empty screen; with runs on it, a folder kltop may not list is still said.
            segments.append(
                HeaderSegment(
                    problems == 1 ? "1 path unreadable" : "\(problems) paths unreadable", priority: 70,
                    role: .bannerWarning))
        }
        if state.runs.count > 1 {
            // How a sweep is doing, at a glance.
            let counts = state.severityCounts
            var spans: [Span] = []
            if counts.critical > 0 {
                spans += [Span("\(counts.critical) crit", .bannerCritical, .bold), Span(" ", .header)]
            }
            if counts.warning > 0 {
                spans += [Span("\(counts.warning) warn", .bannerWarning, .bold), Span(" ", .header)]
            }
            spans.append(Span("\(counts.quiet) ok", .header))
            let stale = state.runs.count(where: \.isStale)
            if stale > 0 { spans += [Span(" ", .header), Span("\(stale) stale", .bannerWarning)] }
            let finished = state.runs.count(where: \.isFinished)
            if finished > 0 { spans.append(Span(" \(finished) done", .header)) }
            segments.append(HeaderSegment(spans: spans, priority: 45))
            if state.order != .severity {
                segments.append(HeaderSegment("by \(state.order.rawValue)", priority: 37))
            }
        }
        if state.isTypingFilter || !state.filter.isEmpty {
            let shown = state.runOrder.count
            let text =
                "/" + state.filter + (state.isTypingFilter ? (glyphs == .ascii ? "_" : "▏") : "")
                + " \(shown)/\(state.runs.count)"
            segments.append(HeaderSegment(text, priority: 97, role: .selection, attributes: .bold))
        }
        segments.append(HeaderSegment("? help", priority: 30))
        let spans = HeaderSegment.fit(segments, width: rect.width - 1, defaultRole: .header)
        grid.write(spans, x: rect.x + 1, y: rect.y, clip: rect)
    }
}

/// A piece of a header line that can be left out when the line is too narrow; lower priorities go first.
struct HeaderSegment {
    var spans: [Span]
    var priority: Int

    init(_ text: String, priority: Int, role: ColorRole? = nil, attributes: CellAttributes = []) {
        spans = [Span(text, role ?? .text, attributes)]
        self.priority = priority
        usesDefaultRole = role == nil
    }

    init(spans: [Span], priority: Int) {
        self.spans = spans
        self.priority = priority
        usesDefaultRole = false
    }

    /// A segment made with no role takes the line's role (the status bar's, a header's text).
    private var usesDefaultRole: Bool

    /// A shorter form with its own (higher) priority, taken when the segment would be left out: a long
    /// explanation that yields to other fields, whose gist stays longer.
    var shortened: (text: String, priority: Int)?

    var columns: Int { spans.reduce(0) { $0 + $1.columns } }

    /// The segments that fit in `width` columns, in their original order: all of them two spaces apart if
    /// they fit, else one space apart with the lowest priorities left out until they do (the last one left
    /// is clipped by the grid), and two spaces apart again if what is left fits so.
    static func fit(_ segments: [HeaderSegment], width: Int, defaultRole: ColorRole) -> [Span] {
        guard width > 0 else { return [] }
        var segments = segments
        func total(_ kept: [Int], _ separator: Int) -> Int {
            kept.reduce(0) { $0 + segments[$1].columns } + max(0, kept.count - 1) * separator
        }
        var kept = Array(segments.indices)
        var separator = "  "
        if total(kept, 2) > width {
            separator = " "
            while total(kept, 1) > width && kept.count > 1 {
                guard let weakest = kept.min(by: { segments[$0].priority < segments[$1].priority }),
                    let position = kept.firstIndex(of: weakest)
                else { break }
                if let short = segments[weakest].shortened {
                    segments[weakest].spans = segments[weakest].spans.prefix(1).map {
                        Span(short.text, $0.role, $0.attributes)
                    }
                    segments[weakest].priority = short.priority
                    segments[weakest].shortened = nil
                    continue
                }
                kept.remove(at: position)
            }
            // What is left may fit two spaces apart after all.
            if total(kept, 2) <= width { separator = "  " }
        }
        var spans: [Span] = []
        for (order, index) in kept.enumerated() {
            if order > 0 { spans.append(Span(separator, defaultRole)) }
            for var span in segments[index].spans {
                if segments[index].usesDefaultRole { span.role = defaultRole }
                spans.append(span)
            }
        }
        return spans
    }
}
