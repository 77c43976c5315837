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
                        if case .bell = effect, bell { terminal.bell() }
                    }
                }
                dirty = true
            }
            switch source {
            case .logs(let reader): for event in reader.takeWaitingEvents() { deliver(event) }
            case .demo(var demo):
                demo.advance(to: now, emit: deliver)
                source = .demo(demo)
            }
            if now - lastTick >= tickInterval {
                // Only a tick that changed a figure is drawn: 256 silent runs cost no frames.
                if update(&state, .tick(time: now)).contains(.figuresChanged) { dirty = true }
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
    }

    private static func wait(on descriptors: [Int32], timeout: Double) {
        var polled = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = poll(&polled, nfds_t(polled.count), LogFollower.pollMilliseconds(timeout))
    }
}
