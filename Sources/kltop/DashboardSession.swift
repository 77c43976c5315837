import Dashboard
import KltopKit
import LogFollowing
import TerminalUI

#if canImport(Glibc)
    import Glibc
#endif

/// Where the dashboard's runs come from.
enum RunSource {
    case logs(LogFollower, pollInterval: Double)
    case demo(DemoRuns)
}

/// The dashboard's event loop: keys, new samples and the clock go into ``update(_:_:)``; the state is
/// rendered to a grid and painted. Everything else is decided in the Dashboard module.
enum DashboardSession {
    /// Frames per second at most, and the clock's ticks per second.
    static let tickInterval = 0.25
    static let frameInterval = 1.0 / 30

    static func run(state initial: DashboardState, source: RunSource, terminal: Terminal, bell: Bool) {
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
            while let input = terminal.read() {
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
            var moreWaiting = false
            let deliver: (FollowEvent) -> Void = { event in
                for dashboardEvent in Self.translate(event) {
                    for effect in update(&state, dashboardEvent) {
                        if case .bell = effect, bell { terminal.bell() }
                    }
                }
                dirty = true
            }
            switch source {
            case .logs(let follower, _): moreWaiting = follower.poll(now: now, emit: deliver)
            case .demo(var demo):
                demo.advance(to: now, emit: deliver)
                source = .demo(demo)
            }
            if now - lastTick >= tickInterval {
                _ = update(&state, .tick(time: now))
                lastTick = now
                dirty = true
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
            var timeout = moreWaiting ? 0 : min(untilTick, untilFrame)
            var descriptors = [terminal.inputDescriptor]
            if case .logs(let follower, let pollInterval) = source {
                descriptors += follower.waitDescriptors
                timeout = min(timeout, pollInterval)
            }
            wait(on: descriptors, timeout: timeout)
        }
    }

    /// What following reports, as dashboard events.
    static func translate(_ event: FollowEvent) -> [DashboardEvent] {
        switch event {
        case .runAppeared(let run, let name, let path):
            return [.runAdded(RunID(run), name: name, source: path)]
        case .samples(let run, let samples, let metricKey, let statistics):
            return [
                .runStatusChanged(RunID(run), .following),
                .samplesAppended(RunID(run), metricKey: metricKey, samples: samples, statistics: statistics),
            ]
        case .notice(let run?, let notice):
            switch notice.kind {
            case .waitingForFile: return [.runStatusChanged(RunID(run), .waitingForFile)]
            case .permissionDenied, .notAFile, .cannotOpen, .cannotRead:
                return [.runStatusChanged(RunID(run), .unreadable(notice.message))]
            case .following, .rotated, .replacedByContinuation, .truncated, .nothingToFollowYet:
                return [.runStatusChanged(RunID(run), .following)]
            }
        case .recordedAlerts(let run, let alerts):
            return [.recordedAlertsAppended(RunID(run), alerts)]
        case .notice(nil, _), .runEnded:
            return []
        }
    }

    private static func wait(on descriptors: [Int32], timeout: Double) {
        var polled = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = poll(&polled, nfds_t(polled.count), Int32(max(0, timeout) * 1000))
    }
}
