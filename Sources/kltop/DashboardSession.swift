import Dashboard
import KltopKit
import LogFollowing
import TerminalUI

#if canImport(Glibc)
    import Glibc
#endif

/// Where the dashboard's runs come from.
enum RunSource {
    /// Logs, read on a thread of their own: this loop only takes what was read.
    case logs(BackgroundFollower)
    /// Simulated runs, generated here, on this loop's clock.
    case demo(DemoRuns)
}

/// The dashboard's event loop: keys, new samples and the clock go into ``update(_:_:)``; the state is
/// rendered to a grid and painted. Everything else is decided in the Dashboard module. Logs are read and
/// parsed on the reader's thread (``BackgroundFollower``) while this one ingests and draws: one poll(2)
/// waits for keys and for what the reader has read.
enum DashboardSession {
    /// Frames per second at most, and the clock's ticks per second.
    static let tickInterval = 0.25
    static let frameInterval = 1.0 / 30

    /// `courier` gets every alert delivered for new samples; what it reports is returned, to be printed
    /// once the terminal is restored.
    @discardableResult
    static func run(
        state initial: DashboardState, source: RunSource, terminal: Terminal, bell: Bool,
        courier: AlertCourier? = nil
    ) -> [AlertCourier.Report] {
        var reports: [AlertCourier.Report] = []
        var seen = Set<RunID>()
        var state = initial
        var source = source
        Interruption.install()
        let (width, height) = terminal.size
        _ = update(&state, .resized(width: width, height: height))
        var lastTick = -Double.infinity
        var lastFrame = -Double.infinity
        var dirty = true
        while !Interruption.wasRequested {
            let now = SourceDriver.monotonicSeconds()
            var quit = false
            var keyPressed = false
            // Stops reading keys at the one that quits: what was typed after it (the next shell command,
            // typed ahead while a big log loads) is left in the terminal for the shell.
            while !quit, let input = terminal.read() {
                switch input {
                case .resized(let width, let height):
                    terminal.invalidate()
                    _ = update(&state, .resized(width: width, height: height))
                case .key(let key):
                    keyPressed = true
                    for effect in update(&state, .keyPressed(key)) where effect == .quit { quit = true }
                }
                dirty = true
            }
            if quit { break }
            let deliver: (FollowEvent) -> Void = { event in
                for dashboardEvent in DashboardEvent.translating(event) {
                    for effect in update(&state, dashboardEvent) {
                        switch effect {
                        case .bell: if bell { terminal.bell() }
                        case .alertsDelivered(let id, let alerts):
                            guard let courier, let run = state.runs.first(where: { $0.id == id }) else {
                                break
                            }
                            for alert in alerts {
                                courier.send(
                                    AlertReport(
                                        run: RunIdentity(
                                            name: run.name, source: LogFollower.absolutePath(run.source)),
                                        metric: run.metricKey ?? "", alert: alert,
                                        sigmaMultiplier: state.settings.sigmaMultiplier))
                            }
                        default: break
                        }
                    }
                }
                if let courier, case .runAppeared(let run, _, _) = event, !seen.contains(RunID(run)),
                    let added = state.runs.first(where: { $0.id == RunID(run) })
                {
                    seen.insert(RunID(run))
                    courier.seen(
                        RunIdentity(name: added.name, source: LogFollower.absolutePath(added.source)))
                }
                // Renamed by its log (a W&B run's display name): its alerts go under the new name.
                if let courier, case .runNamed(let run, _, _) = event,
                    let renamed = state.runs.first(where: { $0.id == RunID(run) })
                {
                    courier.seen(
                        RunIdentity(name: renamed.name, source: LogFollower.absolutePath(renamed.source)))
                }
                dirty = true
            }
            switch source {
            case .logs(let reader):
                let (events, pastEndsAt) = reader.takeWaiting()
                for (index, event) in events.enumerated() {
                    if index == pastEndsAt { courier?.caughtUp() }
                    deliver(event)
                }
                if let pastEndsAt, pastEndsAt >= events.count { courier?.caughtUp() }
                if let courier {
                    let taken = courier.takeReports()
                    for report in taken {
                        let line = report.line
                        _ = update(
                            &state,
                            .deliveryReported(line.hasPrefix("kltop: ") ? String(line.dropFirst(7)) : line))
                        dirty = true
                    }
                    for report in taken where report.kind == .undelivered {
                        guard let name = report.run, let step = report.step, let severity = report.severity,
                            let run = state.runs.first(where: { $0.name == name })
                        else { continue }
                        _ = update(
                            &state,
                            .alertUndelivered(run.id, step: step, severity: severity, channel: report.channel)
                        )
                        dirty = true
                    }
                    reports += taken
                }
            case .demo(var demo):
                demo.advance(to: now, emit: deliver)
                source = .demo(demo)
            }
            if now - lastTick >= tickInterval {
                // Only a tick that changed a figure is drawn: 256 silent runs cost no frames.
                for effect in update(&state, .tick(time: now)) {
                    switch effect {
                    case .figuresChanged: dirty = true
                    case .runWentStale(let id):
                        dirty = true
                        guard let courier, let run = state.runs.first(where: { $0.id == id }),
                            let silence = run.activity.silence(at: now), !run.history.isEmpty
                        else { break }
                        courier.send(
                            StaleRunNotice(
                                run: RunIdentity(
                                    name: run.name, source: LogFollower.absolutePath(run.source)),
                                metric: run.metricKey ?? "",
                                lastStep: run.history.step(at: run.history.count - 1),
                                silence: silence, usualInterval: run.activity.usualInterval))
                    default: break
                    }
                }
                lastTick = now
            }
            if dirty && (keyPressed || now - lastFrame >= frameInterval) {
                let (width, height) = terminal.size
                terminal.paint(render(state, width: width, height: height))
                lastFrame = now
                dirty = false
            }
            let untilTick = max(0, lastTick + tickInterval - SourceDriver.monotonicSeconds())
            let untilFrame =
                dirty ? max(0, lastFrame + frameInterval - SourceDriver.monotonicSeconds()) : untilTick
            var descriptors = [terminal.inputDescriptor]
            if case .logs(let reader) = source { descriptors.append(reader.readyDescriptor) }
            wait(on: descriptors, timeout: min(untilTick, untilFrame))
        }
        return reports
    }

    private static func wait(on descriptors: [Int32], timeout: Double) {
        var polled = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = poll(&polled, nfds_t(polled.count), LogFollower.pollMilliseconds(timeout))
    }
}
