import KLDetector
import KltopKit
import RunLogs

extension Renderer {
    /// A run's header line: status mark, name, KL key, step, KL, z, mean, σ, baseline (and where it froze),
    /// steps/s, bad lines. Fields drop out by priority as the line narrows; the name and KL stay longest.
    mutating func drawRunHeader(_ run: RunState, in rect: Rect, focused: Bool, nameRole: ColorRole? = nil) {
        guard !rect.isEmpty else { return }
        grid.fill(rect)
        let spans = HeaderSegment.fit(
            headerSegments(run, focused: focused, nameRole: nameRole), width: rect.width, defaultRole: .text)
        grid.write(spans, x: rect.x, y: rect.y, clip: rect)
    }

    func headerSegments(_ run: RunState, focused: Bool, nameRole: ColorRole?, compact: Bool = false)
        -> [HeaderSegment]
    {
        var figures = run.figures
        // Under the inspect cursor: the figures as they were at its step.
        let cursor = state.inspect
        let reading = cursor?.readings[run.id]
        if let reading {
            figures.step = reading.step
            figures.value = reading.value
            figures.verdict = reading.verdict
            figures.stepsPerSecond = nil
        }
        let status = figures.verdict?.status ?? .warmingUp
        let mark = Span(String(glyphs.statusMark), figures.sampleCount > 0 ? StatusStyle.role(status) : .dim)
        let name = Fit.elideMiddle(run.name, to: compact ? 16 : 28, ellipsis: glyphs.ellipsis)
        // A run with its own colour (the overlay's legend) keeps it when focused, reversed: the selection
        // colour would hide which series is whose.
        let nameSpan: Span
        if let nameRole {
            nameSpan = Span(name, nameRole, focused ? [.bold, .reverse] : .bold)
        } else {
            nameSpan = Span(name, focused ? .selection : .text, .bold)
        }
        var segments = [HeaderSegment(spans: [mark, Span(" "), nameSpan], priority: 100)]
        func labelled(_ label: String, _ value: String, _ priority: Int, _ role: ColorRole = .text) {
            segments.append(
                HeaderSegment(spans: [Span(label + " ", .label), Span(value, role)], priority: priority))
        }
        switch run.sourceStatus {
        case .waitingForFile where figures.sampleCount == 0:
            segments.append(HeaderSegment("waiting for the file", priority: 95, role: .dim))
        case .unreadable(let message):
            segments.append(HeaderSegment("unreadable: \(message)", priority: 95, role: .pointCritical))
        case .disconnected(let message):
            // The figures stay (the last ones read); the reason in full only where there is room for it
            // beside them, else the one word, which outranks them.
            var segment = HeaderSegment(message, priority: 20, role: .pointWarning)
            segment.shortened = ("disconnected", 96)
            segments.append(segment)
        case .waitingForWriter where figures.sampleCount == 0:
            segments.append(HeaderSegment("waiting for a writer", priority: 95, role: .dim))
        case .ended:
            segments.append(HeaderSegment("input closed", priority: 60, role: .dim))
        default: break
        }
        if run.isFinished {
            segments.append(HeaderSegment("finished", priority: 92, role: .dim))
        } else if run.isStale {
            // Minutes, not seconds: the line changes once a minute at most, and only for stale runs.
            let text = "stale: silent \(RunActivity.describe(Double(max(1, run.staleMinutes) * 60)))"
            segments.append(HeaderSegment(compact ? "stale" : text, priority: 78, role: .pointWarning))
        }
        if !compact, let key = run.metricKey { segments.append(HeaderSegment(key, priority: 30, role: .dim)) }
        if let key = run.metricKey, KLKeyClass.of(key) == .updateSize {
            // PPO's approx KL is the size of one update, not drift from the reference model: say so, as the
            // detector's verdict on it means something else.
            // In full where there is room, else in two words; it yields to the other fields (the key says
            // which series it is, the source which log).
            let short = "update-size KL"
            var segment = HeaderSegment(
                compact ? short : "approx KL (update size), not reference KL", priority: compact ? 35 : 22,
                role: .dim)
            if !compact { segment.shortened = (short, 24) }
            segments.append(segment)
            if !compact, ReadReport.whyOnlyUpdateSizeKL(metricKey: key) != nil {
                // veRL's reference KL is off by default: the switch to turn it on, where there is room.
                segments.append(
                    HeaderSegment(
                        "veRL logs it with use_kl_loss or use_kl_in_reward", priority: 12, role: .dim))
            }
        }
        if !compact, run.sources.count > 1 {
            // Which of the run's logs this is, and that there are others (f switches).
            let path = ReadReport.shortPath(run.sources[run.shownSource].path, in: run.source)
            let others = run.sources.count - 1
            segments.append(
                HeaderSegment(
                    "from \(Fit.elideMiddle(path, to: 32, ellipsis: glyphs.ellipsis)) +\(others)",
                    priority: 25,
                    role: .dim))
        }
        if let problem = run.keyProblem {
            segments.append(
                HeaderSegment(
                    Self.keyProblemSummary(problem, compact: compact), priority: 95, role: .pointWarning))
        }
        if let cursor, reading == nil {
            segments.append(HeaderSegment("no step at or before \(cursor.step)", priority: 90, role: .dim))
        } else if let step = figures.step {
            labelled(cursor == nil ? "step" : "at step", String(step), 80, cursor == nil ? .text : .selection)
        }
        if let value = figures.value { labelled("KL", Figures.short(value), 85, StatusStyle.role(status)) }
        if let verdict = figures.verdict, verdict.status != .warmingUp {
            labelled("z", Figures.short(verdict.z, digits: 3), 70, StatusStyle.role(status))
            if !compact {
                labelled(glyphs.meanLabel, Figures.short(verdict.mean), 50)
                labelled(glyphs.deviationLabel, Figures.short(verdict.std), 45)
            }
        } else if figures.sampleCount > 0 && !compact {
            let text = state.settings.enabled ? "warming up" : "detector off"
            segments.append(HeaderSegment(text, priority: 55, role: .dim))
        }
        if let verdict = reading?.verdict, verdict.status != .warmingUp {
            // (A warming-up detector, or one turned off, is said by the segment above.)
            segments.append(
                HeaderSegment(Self.verdictWord(verdict.status), priority: 75, role: StatusStyle.role(status)))
        }
        if !compact {
            if state.settings.baselineMode == .frozen {
                let text = figures.frozenBaseline.map { "frozen@\($0.lockedAtStep)" } ?? "frozen: not yet"
                segments.append(HeaderSegment(text, priority: 40, role: .frozenMarker))
            }
            if let rate = figures.stepsPerSecond {
                segments.append(
                    HeaderSegment("\(Figures.short(rate, digits: 3))/s", priority: 20, role: .dim))
            }
        }
        if figures.badLines > 0 {
            segments.append(HeaderSegment("\(figures.badLines) bad", priority: 60, role: .pointWarning))
        }
        if figures.heldAtEnd > 0 {
            // The log ended inside its last record: still being written, not damaged, so not a warning.
            segments.append(HeaderSegment("last record incomplete", priority: 30, role: .dim))
        }
        return segments
    }

    /// The detector's verdict at the inspect cursor, in a word.
    static func verdictWord(_ status: StepStatus) -> String {
        switch status {
        case .warmingUp: "warming up"
        case .normal: "normal"
        case .warning: "WARNING"
        case .critical: "CRITICAL"
        }
    }

    /// The header's word on a run without KL values (``RunState/keyProblem``), as `kltop check` says it.
    static func keyProblemSummary(_ problem: KeyProblem, compact: Bool) -> String {
        switch problem {
        case .noKnownKey(let records, let reason, _, _):
            // Where the keys say why (the panel says it), --metric is not the remedy.
            switch (compact, reason == nil) {
            case (true, true): "no KL key: --metric KEY"
            case (true, false): "no KL key"
            case (false, true): "no KL key found in \(records) records: name it with --metric KEY"
            case (false, false): "no KL key found in \(records) records"
            }
        case .noValues(let key, let records):
            compact ? "no \"\(key)\" values" : "no \"\(key)\" values in \(records) records"
        }
    }

    /// What a run's panel shows instead of an empty plot when no record had a KL value: the reason where
    /// the keys show one, as `kltop check` says it, and the first keys the log holds (not the list of every
    /// key kltop looks for, too long for a panel).
    static func keyProblemExplanation(_ problem: KeyProblem) -> String {
        switch problem {
        case .noKnownKey(let records, let reason, let keys, let moreKeys):
            "No KL key found in \(records) record\(records == 1 ? "" : "s")"
                + (reason.map { ": \($0)." } ?? ".")
                + (keys.isEmpty
                    ? ""
                    : " Keys: " + keys.joined(separator: ", ") + (moreKeys > 0 ? " (+\(moreKeys) more)" : "")
                        + ".")
                + (reason == nil ? " Name the key that holds KL with --metric KEY." : "")
        case .noValues(let key, let records):
            "No number under \"\(key)\" (the key named with --metric) in \(records) record\(records == 1 ? "" : "s"). "
                + "Name the key that holds KL with --metric KEY."
        }
    }
}
