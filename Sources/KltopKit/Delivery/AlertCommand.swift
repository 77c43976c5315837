import KLDetector
import LogFollowing

#if canImport(Glibc)
    import Glibc
#endif

/// `--on-alert CMD`: the command, run through `/bin/sh -c` for each delivered alert, with the alert as one
/// JSON object on its standard input (the object `check --format jsonl` prints; a summary of past alerts
/// has `"summary": true`) and `KLTOP_RUN`, `KLTOP_STEP`, `KLTOP_SEVERITY` in its environment. Its output
/// (standard output and error together) is handed on line by line; it runs on the delivery thread, so a
/// slow command holds up only the alerts after it, never reading or the screen.
enum AlertCommand {
    /// A command still running after this long is stopped (SIGTERM, then SIGKILL) and reported.
    static let timeLimit = 60.0

    static func run(_ command: String, for notification: AlertMessage, output: (String) -> Void)
        -> SendOutcome
    {
        var input: [Int32] = [-1, -1]
        var captured: [Int32] = [-1, -1]
        guard makePipe(&input) else { return .failed(reason: "could not make a pipe") }
        guard makePipe(&captured) else {
            close(input[0])
            close(input[1])
            return .failed(reason: "could not make a pipe")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, captured[1], 1)
        posix_spawn_file_actions_adddup2(&actions, captured[1], 2)
        var environment = currentEnvironment().filter {
            !$0.hasPrefix("KLTOP_RUN=") && !$0.hasPrefix("KLTOP_STEP=") && !$0.hasPrefix("KLTOP_SEVERITY=")
        }
        environment += [
            "KLTOP_RUN=\(notification.run.name)", "KLTOP_STEP=\(notification.step)",
            "KLTOP_SEVERITY=\(notification.severity.rawValue)",
        ]
        let arguments = ["/bin/sh", "-c", command]
        var pid: pid_t = 0
        let spawned = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                SpawnSignals.reset { posix_spawn(&pid, "/bin/sh", &actions, $0, argv, envp) }
            }
        }
        close(input[0])
        close(captured[1])
        guard spawned == 0 else {
            close(input[1])
            close(captured[0])
            return .failed(reason: "could not start /bin/sh (\(String(cString: strerror(spawned))))")
        }
        // The object, then end of input: a command that does not read it is not held up (SIGPIPE is
        // ignored by kltop, a write to a closed pipe fails instead).
        let object = Array((json(notification) + "\n").utf8)
        _ = object.withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) }
        close(input[1])
        let status = collect(from: captured[0], pid: pid, output: output)
        close(captured[0])
        switch status {
        case .exited(0): return .delivered
        case .exited(let code): return .failed(reason: "the command exited with status \(code)")
        case .signalled(let signal): return .failed(reason: "the command was killed by signal \(signal)")
        case .timedOut:
            return .failed(reason: "the command ran for more than \(Int(timeLimit)) s and was stopped")
        }
    }

    /// The JSON object a command reads.
    static func json(_ notification: AlertMessage) -> String {
        switch notification {
        case .alert(let report):
            return AlertOutput.line(
                for: report.alert, run: report.run.name, metric: report.metric, format: .jsonl)
        case .summary(let summary):
            let worst = AlertOutput.line(
                for: summary.worst, run: summary.run.name, metric: summary.metric, format: .jsonl)
            return
                "{\"run\": \(JSONText.string(summary.run.name)), \"metric\": \(JSONText.string(summary.metric)), "
                + "\"summary\": true, \"warnings\": \(summary.warnings), \"criticals\": \(summary.criticals), "
                + "\"last_step\": \(summary.lastStep), \"worst\": \(worst)}"
        case .stale(let notice):
            return
                "{\"run\": \(JSONText.string(notice.run.name)), \"metric\": \(JSONText.string(notice.metric)), "
                + "\"stale\": true, \"severity\": \"warning\", \"step\": \(notice.lastStep), "
                + "\"silence_seconds\": \(JSONText.number(notice.silence.rounded())), \"message\": \(JSONText.string(notice.message))}"
        }
    }

    private enum Status {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    /// Reads the command's output until it closes it, then reaps it; stops it after ``timeLimit``.
    private static func collect(from descriptor: Int32, pid: pid_t, output: (String) -> Void) -> Status {
        let deadline = DeliveryClock.now() + timeLimit
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var timedOut = false
        while true {
            let left = deadline - DeliveryClock.now()
            if left <= 0 {
                timedOut = true
                kill(pid, SIGTERM)
                usleep(200_000)
                kill(pid, SIGKILL)
                break
            }
            var polled = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
            guard poll(&polled, 1, Int32(min(left, 1) * 1000) + 1) >= 0 || errno == EINTR else { break }
            guard polled[0].revents != 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending += buffer[..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                output(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
            if pending.count > 4096 {  // a line without end: given in pieces
                output(String(decoding: pending, as: UTF8.self))
                pending.removeAll()
            }
        }
        if !pending.isEmpty { output(String(decoding: pending, as: UTF8.self)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut { return .timedOut }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        if status & 0x7F == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(status & 0x7F)
    }

    /// A pipe whose ends other commands do not inherit (the spawned one gets its copies by dup2).
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    private static func currentEnvironment() -> [String] {
        var result: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            result.append(String(cString: entry))
            cursor += 1
        }
        return result
    }

    private static func withCStrings<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R
    ) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// The monotonic clock the delivery thread schedules on.
enum DeliveryClock {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// The time of sending as rlwatch's webhook gives it: ISO 8601 in UTC, with microseconds.
    static func timestamp() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        _ = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let micro = String(time.tv_nsec / 1000)
        return String(cString: buffer) + "." + String(repeating: "0", count: 6 - micro.count) + micro
            + "+00:00"
    }
}
