import KltopKit

#if canImport(Glibc)
    import Glibc
#endif

/// Writing to the standard streams: whole lines, buffered for throughput, flushed when asked.
enum FileHandleOutput {
    nonisolated(unsafe) private static var buffer: [UInt8] = []

    static func standardOutput(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Lines to stdout that a person or a pipe waits for (alerts as they happen): written at once.
    static func standardOutputNow(_ line: String) {
        standardOutput(line)
        flush()
    }

    static func standardError(_ line: String) {
        flush()
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        write(bytes, to: STDERR_FILENO)
    }

    static func flush() {
        guard !buffer.isEmpty else { return }
        write(buffer, to: STDOUT_FILENO)
        buffer.removeAll(keepingCapacity: true)
    }

    private static func write(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Whether nothing reads standard output any more (the pipe's or socket's other end closed): a remote
    /// `export --follow` whose ssh connection dropped stops instead of following on for nobody.
    static var readerHasGone: Bool {
        var probe = pollfd(fd: STDOUT_FILENO, events: 0, revents: 0)
        guard poll(&probe, 1, 0) == 1 else { return false }
        return probe.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0
    }

    static var sink: CheckOutput { CheckOutput(output: standardOutput, diagnostics: standardError) }
    static var immediateSink: CheckOutput {
        CheckOutput(output: standardOutputNow, diagnostics: standardError)
    }
}

/// SIGINT, SIGTERM and SIGHUP end a `--follow` and the dashboard cleanly: the flag is checked between
/// rounds, and the signal interrupts the wait (no SA_RESTART) so that kltop stops at once.
enum Interruption {
    /// The signal that asked kltop to stop, 0 before one did.
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    static var wasRequested: Bool { flag != 0 }

    static func install() {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in Interruption.flag = signal }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
            sigaddset(&unblock, signal)
        }
        // A parent may have left them blocked (a test runner, a supervisor): kltop must still stop on them.
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// After a signal stopped the dashboard and the terminal is restored: ends kltop by that same signal,
    /// as if it had not been caught. The shell then reports 128 + its number (130 for Ctrl-C, 143 for
    /// SIGTERM, 129 for SIGHUP), and a script running kltop stops on Ctrl-C as it does for any program (a
    /// plain `exit(130)` would let the script go on: shells tell the two apart). Returns when no signal
    /// was caught.
    static func endAsSignalled() {
        let signal = flag
        guard signal != 0 else { return }
        FileHandleOutput.flush()
        Glibc.signal(signal, SIG_DFL)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, signal)
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
        raise(signal)
        Glibc.exit(128 + signal)  // not reached: the default action of these three ends the process
    }
}
