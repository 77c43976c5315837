// Figures that involve the whole program: rlwatch beside kltop, cold open, memory, following, the terminal.

import Dashboard
import Foundation
import KLDetector
import KltopKit
import LogFollowing
import RunLogs
import TestSupport

/// The release `kltop` binary beside this benchmark (Scripts/bench.sh builds both).
let kltopBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("kltop").path

// MARK: - rlwatch's own detector, when it can be imported

func benchRlwatch() {
    let count = 20_000
    let series = klSeries(count: count)
    print("rlwatch 0.5.1's Python detector on the same series (target: kltop ≥ 1000× faster per step)")
    // The series goes through a file: as an argument it would pass the kernel's limit on one argument.
    let valuesPath = NSTemporaryDirectory() + "kltop-rlwatch-\(getpid()).txt"
    FileManager.default.createFile(
        atPath: valuesPath, contents: Data(series.map { "\($0)" }.joined(separator: "\n").utf8))
    defer { unlink(valuesPath) }
    let script = """
        import time, sys
        try:
            from rlwatch.detectors import KLExplosionDetector
            from rlwatch.config import KLExplosionConfig
        except Exception as error:
            print("unavailable", error); sys.exit(0)
        values = [float(line) for line in open("\(valuesPath)")]
        best = None
        for _ in range(3):
            detector = KLExplosionDetector(KLExplosionConfig())
            start = time.perf_counter()
            for step, value in enumerate(values):
                detector.check(step, value)
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        print(best / len(values) * 1e9)
        """
    guard let output = runProgram(["/usr/bin/env", "python3", "-c", script]),
        let nanoseconds = Double(output.trimmingCharacters(in: .whitespacesAndNewlines))
    else {
        print("  python3 with rlwatch is not importable here: skipped (pip install rlwatch==0.5.1)")
        return
    }
    let repeated = klSeries(count: 10_000_000)
    let seconds = best(of: 3) {
        var detector = KLExplosionDetector()
        for (index, value) in repeated.enumerated() { _ = detector.check(step: Int64(index), value: value) }
    }
    let ours = seconds / Double(repeated.count) * 1e9
    print(
        "  rlwatch: \(String(format: "%8.0f", nanoseconds)) ns/step   kltop: \(String(format: "%6.2f", ours)) ns/step   ratio: \(String(format: "%.0f", nanoseconds / ours))×"
    )
}

// MARK: - Cold open and memory

func benchColdOpen() {
    print(
        "cold open: a JSON Lines log read, every step through detector and dashboard, first frame drawn (target ≤ 2 s for 10M steps, ≤ 24 bytes RSS per step)"
    )
    // Each size in a fresh process of its own, so that its RSS is not what earlier sections left behind.
    for count in [1_000_000, 10_000_000] {
        if let output = runProgram([CommandLine.arguments[0], "cold-open-one", "\(count)"]) {
            print(output.split(separator: "\n").filter { $0.hasPrefix("  ") }.joined(separator: "\n"))
        }
    }
}

/// The dashboard's cold open, as DashboardSession does it: the log read on a ``BackgroundFollower``'s thread,
/// every event through ``DashboardEvent/translating(_:)`` and ``update(_:_:)`` on this one, a tick every
/// 0.25 s and a frame rendered at most every 1/30 s while it loads. The time is to the frame drawn once
/// every step is in.
func benchColdOpenOne(count: Int) {
    let path = NSTemporaryDirectory() + "kltop-cold-\(getpid())-\(count).jsonl"
    writeLog(path: path, steps: count)
    defer { unlink(path) }
    let rssBefore = residentBytes()
    let start = now()
    let reader: BackgroundFollower
    do {
        reader = try BackgroundFollower(arguments: [path], options: FollowOptions())
    } catch {
        print("  \(error.description)")
        return
    }
    var state = DashboardState()
    guard
        load(
            reader, into: &state, width: 120, height: 40, since: start,
            until: { $0.runs.first?.history.count ?? 0 >= count })
    else {
        print("  \(count) steps: gave up after 600 s with \(state.runs.first?.history.count ?? 0) read")
        return
    }
    _ = update(&state, .tick(time: now()))
    let grid = render(state, width: 120, height: 40)
    let seconds = now() - start
    reader.stop()
    let rssAfter = residentBytes()
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    print(
        "  \(count / 1_000_000)M steps (\(size / 1_000_000) MB): first frame after \(String(format: "%.2f", seconds)) s;"
            + " RSS grew \(String(format: "%.1f", Double(rssAfter - rssBefore) / Double(count))) bytes/step"
            + " (grid \(grid.width)×\(grid.height), \(state.runs.first?.history.count ?? 0) steps stored)"
    )
}

/// A hyperparameter sweep: 256 runs of 10k steps each in one folder (`sweep/lr<k>/seed<n>/metrics.jsonl`),
/// each in a fresh process of its own so that its RSS is its own.
func benchSweep() {
    print(
        "sweep: 256 runs × 10k steps in one folder, read as the dashboard reads them, first full frame drawn "
            + "(targets: ≤ 1.5 s, ≤ 24 B per step + ≤ 64 KB per run)")
    if let output = runProgram([CommandLine.arguments[0], "sweep-one"]) {
        print(output.split(separator: "\n").filter { $0.hasPrefix("  ") }.joined(separator: "\n"))
    }
}

func benchSweepOne(runs: Int = 256, steps: Int = 10_000) {
    let root = NSTemporaryDirectory() + "kltop-sweep-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: root) }
    for run in 0..<runs {
        let folder = "\(root)/sweep/lr\(run % 8)/seed\(run)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        writeLog(path: folder + "/metrics.jsonl", steps: steps)
    }
    let rssBefore = residentBytes()
    let start = now()
    let reader: BackgroundFollower
    do {
        reader = try BackgroundFollower(arguments: [root + "/sweep"], options: FollowOptions())
    } catch {
        print("  \(error.description)")
        return
    }
    var state = DashboardState()
    func stored(_ state: DashboardState) -> Int { state.runs.reduce(0) { $0 + $1.history.count } }
    guard
        load(
            reader, into: &state, width: 160, height: 50, since: start,
            until: {
                $0.runs.count >= runs && stored($0) >= runs * steps
            })
    else {
        print("  gave up after 600 s with \(state.runs.count) runs, \(stored(state)) steps read")
        return
    }
    _ = update(&state, .tick(time: now()))
    _ = render(state, width: 160, height: 50)
    let seconds = now() - start
    reader.stop()
    let grown = Double(residentBytes() - rssBefore)
    let perStep = grown / Double(runs * steps)
    // What is left per run once the history's 21.2 bytes a step (BENCHMARKS.md, cold open) are counted.
    let perRun = max(0, grown - 21.2 * Double(runs * steps)) / Double(runs)
    print(
        "  \(runs) runs, \(stored(state)) steps: first full frame after \(String(format: "%.2f", seconds)) s; RSS grew "
            + "\(String(format: "%.0f", grown / 1e6)) MB: \(String(format: "%.1f", perStep)) B per step all told, or "
            + "21.2 B per step + \(String(format: "%.1f", perRun / 1024)) KB per run")
}

/// What DashboardSession does while logs load: every event through ``DashboardEvent/translating(_:)`` and
/// ``update(_:_:)``, a tick every 0.25 s, a frame at most every 1/30 s, until `done` says so. False after
/// 600 s.
func load(
    _ reader: BackgroundFollower, into state: inout DashboardState, width: Int, height: Int,
    since start: Double,
    until done: (DashboardState) -> Bool
) -> Bool {
    _ = update(&state, .resized(width: width, height: height))
    var lastTick = -Double.infinity
    var lastFrame = -Double.infinity
    while !done(state) {
        guard now() - start < 600 else { return false }
        waitUntilReadable(reader.readyDescriptor, timeout: 1.0 / 30)
        for event in reader.takeWaitingEvents() {
            for dashboardEvent in DashboardEvent.translating(event) { _ = update(&state, dashboardEvent) }
        }
        if now() - lastTick >= 0.25 {
            _ = update(&state, .tick(time: now()))
            lastTick = now()
        }
        if now() - lastFrame >= 1.0 / 30 {
            _ = render(state, width: width, height: height)
            lastFrame = now()
        }
    }
    return true
}

func waitUntilReadable(_ descriptor: Int32, timeout: Double) {
    var polled = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    _ = poll(&polled, 1, Int32(timeout * 1000))
}

func writeLog(path: String, steps: Int) {
    guard
        let handle = FileHandle(forWritingAtPath: path)
            ?? {
                FileManager.default.createFile(atPath: path, contents: nil)
                return FileHandle(forWritingAtPath: path)
            }()
    else { return }
    let series = klSeries(count: 100_003)
    var buffer = ""
    buffer.reserveCapacity(1 << 22)
    for step in 0..<steps {
        buffer +=
            "{\"step\": \(step), \"kl\": \(series[step % series.count]), \"loss\": 0.5, \"reward\": 0.25}\n"
        if buffer.utf8.count >= 1 << 22 {
            handle.write(Data(buffer.utf8))
            buffer.removeAll(keepingCapacity: true)
        }
    }
    handle.write(Data(buffer.utf8))
    try? handle.close()
}

func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
}

// MARK: - Following: idle CPU beside tail -F, and latency

func benchFollow(idleSeconds: Double) {
    guard FileManager.default.isExecutableFile(atPath: kltopBinary) else {
        print("following: \(kltopBinary) not built; run Scripts/bench.sh")
        return
    }
    let directory = NSTemporaryDirectory() + "kltop-follow-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let files = (0..<64).map { "\(directory)/run\($0).jsonl" }
    for file in files {
        FileManager.default.createFile(atPath: file, contents: Data("{\"step\": 0, \"kl\": 0.02}\n".utf8))
    }

    print("following 64 silent files for \(Int(idleSeconds)) s (target ≤ 0.2% of one core), beside tail -F")
    for (label, arguments) in [
        ("kltop export --follow (inotify)", [kltopBinary, "export", "--follow", directory]),
        ("kltop export --follow --poll 1", [kltopBinary, "export", "--follow", "--poll", "1", directory]),
        ("tail -F", ["/usr/bin/tail", "-q", "-F"] + files),
    ] {
        guard let child = spawn(arguments) else { continue }
        Thread.sleep(forTimeInterval: 2)  // start-up is not idling
        let before = cpuSeconds(of: child.pid)
        Thread.sleep(forTimeInterval: idleSeconds)
        let used = cpuSeconds(of: child.pid) - before
        child.stop()
        print(
            "  \(label.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%.3f", used / idleSeconds * 100))% of a core"
        )
    }

    print(
        "latency from a line written to it read (targets: < 100 ms with inotify, < poll interval + 100 ms polling)"
    )
    for (label, extra) in [("inotify", [String]()), ("--poll 1", ["--poll", "1"])] {
        let file = "\(directory)/latency.jsonl"
        FileManager.default.createFile(atPath: file, contents: nil)
        guard let child = spawn([kltopBinary, "export", "--follow"] + extra + [file], captureOutput: true)
        else { continue }
        Thread.sleep(forTimeInterval: 1)
        let latencies = lineLatencies(child, file: file)
        print(
            "  \(label.padding(toLength: 10, withPad: " ", startingAt: 0)) median \(String(format: "%5.1f", latencies[latencies.count / 2] * 1e3)) ms, max \(String(format: "%6.1f", latencies.last! * 1e3)) ms (20 lines)"
        )
        unlink(file)
    }
}

/// The dashboard itself, idle: 64 and 256 silent runs (50 steps each, nothing more arriving) at 160×50,
/// its CPU ticks over `idleSeconds` and the bytes it writes, beside tail -F on the same files.
func benchDashboardIdle(idleSeconds: Double) {
    print(
        "the dashboard idle at 160×50 for \(Int(idleSeconds)) s with silent runs (target ≤ 0.2% of one core, 0 bytes), beside tail -F"
    )
    let series = klSeries(count: 50)
    let history = (0..<50).map { jsonLine(step: $0, kl: series[$0]) }.joined()
    for runs in [64, 256] {
        let directory = NSTemporaryDirectory() + "kltop-idle-\(getpid())-\(runs)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = (0..<runs).map { "\(directory)/run\($0).jsonl" }
        for file in files { FileManager.default.createFile(atPath: file, contents: Data(history.utf8)) }
        guard
            let dashboard = CapturedDashboard(
                lines: [], command: { _ in "\(kltopBinary) \(directory)" }, width: 160, height: 50),
            let pid = dashboard.panePID
        else { return }
        Thread.sleep(forTimeInterval: 4)  // read, drawn, steps per second back to zero
        dashboard.startCapture()
        let before = cpuSeconds(of: pid)
        Thread.sleep(forTimeInterval: idleSeconds)
        let used = cpuSeconds(of: pid) - before
        let label = "kltop, \(runs) runs"
        print(
            "  \(label.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(format: "%.3f", used / idleSeconds * 100))% of a core, \(dashboard.written) bytes written"
        )
        guard let tail = spawn(["/usr/bin/tail", "-q", "-F"] + files) else { continue }
        Thread.sleep(forTimeInterval: 2)
        let tailBefore = cpuSeconds(of: tail.pid)
        Thread.sleep(forTimeInterval: idleSeconds)
        let tailUsed = cpuSeconds(of: tail.pid) - tailBefore
        tail.stop()
        let tailLabel = "tail -F, \(runs) files"
        print(
            "  \(tailLabel.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(format: "%.3f", tailUsed / idleSeconds * 100))% of a core"
        )
    }
}

func appendLine(_ line: String, to path: String) {
    guard let handle = FileHandle(forWritingAtPath: path) else { return }
    handle.seekToEndOfFile()
    handle.write(Data(line.utf8))
    try? handle.close()
}

// MARK: - Bytes to the terminal

/// A program in a detached tmux session (kltop on one JSON Lines log by default) at 120×40, every byte it
/// writes captured with pipe-pane once `startCapture` is called.
final class CapturedDashboard {
    let directory = NSTemporaryDirectory() + "kltop-terminal-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    var log: String { "\(directory)/run.jsonl" }
    private var bytes: String { "\(directory)/bytes" }
    private let socket = "kltop-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    /// Starts `command` (kltop on the log, when nil) on a log holding `lines`, in a `width`×`height` pane;
    /// nil (and a message) without tmux or the release build.
    init?(lines: [String], command: ((_ log: String) -> String)? = nil, width: Int = 120, height: Int = 40) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"),
            FileManager.default.isExecutableFile(atPath: kltopBinary)
        else {
            print("terminal: needs tmux and the release kltop (Scripts/bench.sh)")
            return nil
        }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: log, contents: Data(lines.joined().utf8))
        tmux([
            "new-session", "-d", "-s", "b", "-x", "\(width)", "-y", "\(height)",
            "env TERM=xterm-256color LANG=C.UTF-8 " + (command?(log) ?? "\(kltopBinary) \(log)"),
        ])
        tmux(["set-option", "-t", "b", "status", "off"])
        tmux(["resize-window", "-t", "b", "-x", "\(width)", "-y", "\(height)"])
    }

    /// The process the pane runs (`env` execs the command, so it is the command itself).
    var panePID: pid_t? {
        runProgram(["/usr/bin/tmux", "-L", socket, "list-panes", "-t", "b", "-F", "#{pane_pid}"])
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    deinit {
        tmux(["kill-server"])
        // tmux leaves the socket file behind.
        let socketDirectory = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        unlink("\(socketDirectory)/tmux-\(getuid())/\(socket)")
        try? FileManager.default.removeItem(atPath: directory)
    }

    func startCapture() { tmux(["pipe-pane", "-o", "-t", "b", "cat >> '\(bytes)'"]) }

    /// Bytes captured so far.
    var written: Int { fileSize(bytes) }

    /// Bytes written while `line` is appended to the log and for `settle` seconds after.
    func bytesFor(line: String, settle: Double) -> Int {
        let before = written
        appendLine(line, to: log)
        Thread.sleep(forTimeInterval: settle)
        return written - before
    }

    // Output is not captured: the server `new-session` starts would hold the pipe open for its whole life.
    private func tmux(_ arguments: [String]) {
        guard let child = spawn(["/usr/bin/tmux", "-L", socket, "-f", "/dev/null"] + arguments) else {
            return
        }
        var status: Int32 = 0
        waitpid(child.pid, &status, 0)
    }
}

func jsonLine(step: Int, kl: Double) -> String { "{\"step\": \(step), \"kl\": \(kl)}\n" }

func benchTerminal() {
    let series = klSeries(count: 2021)
    guard let dashboard = CapturedDashboard(lines: (0..<2000).map { jsonLine(step: $0, kl: series[$0]) })
    else { return }
    Thread.sleep(forTimeInterval: 4)  // read, drawn, steps per second back to zero
    dashboard.startCapture()
    Thread.sleep(forTimeInterval: 5)
    print("bytes written to the terminal at 120×40, one run (targets: ≤ 2048 per new step, 0 idle)")
    print("  idle for 5 s: \(dashboard.written) bytes")
    // The run goes on as it was (the same series continued).
    let perStep = (2000..<2020).map {
        dashboard.bytesFor(line: jsonLine(step: $0, kl: series[$0]), settle: 1.5)
    }
    print(
        "  one new step (then 1.5 s of ticks): max \(perStep.max() ?? 0), median \(median(perStep)) bytes over 20 steps"
    )
    // Rarer steps that change much of the screen. The y axis holds the band and the critical line, so a
    // value above its top fires: a spike that moves the axis also raises a banner. A second, larger one
    // moves the axis again, and its alert falls in the first one's cooldown: no new banner.
    let rescaledWithBanner = dashboard.bytesFor(
        line: jsonLine(step: 2020, kl: series[2020] * 1.6), settle: 1.5)
    print("  a spike that moves the y axis and raises a CRITICAL banner: \(rescaledWithBanner) bytes")
    let rescaledAgain = dashboard.bytesFor(line: jsonLine(step: 2021, kl: 0.5), settle: 1.5)
    print("  a larger spike that moves the y axis again (no new banner: cooldown): \(rescaledAgain) bytes")
}

/// What a run that grows from a short history costs on the wire per step, with the steps that change a
/// scale (the x axis doubling its steps per column, the y axis moving) among them; beside ttyplot plotting
/// the same values in the same pane size.
func benchTerminalStream(steps: Int = 500, from first: Int = 150, gap: Double = 0.12) {
    let series = klSeries(count: first + steps)
    guard let dashboard = CapturedDashboard(lines: (0..<first).map { jsonLine(step: $0, kl: series[$0]) })
    else { return }
    Thread.sleep(forTimeInterval: 4)
    dashboard.startCapture()
    Thread.sleep(forTimeInterval: 2)
    let perStep = (first..<first + steps).map {
        dashboard.bytesFor(line: jsonLine(step: $0, kl: series[$0]), settle: gap)
    }
    print(
        "bytes per step of a run growing from \(first) to \(first + steps) steps, one every \(Int(gap * 1000)) ms, 120×40 (targets: mean ≤ 300, p99 ≤ 1024)"
    )
    print("  kltop    " + distribution(perStep))
    let over = zip(first..., perStep).filter { $0.1 > 2048 }
    if !over.isEmpty {
        print(
            "           steps over 2 KB: " + over.map { "step \($0.0) (\($0.1) B)" }.joined(separator: ", "))
    }
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ttyplot") else {
        print("  ttyplot  not installed (Debian's ttyplot package)")
        return
    }
    // ttyplot reads one value per line from its standard input: the same values, from a file tail -F reads.
    guard
        let ttyplot = CapturedDashboard(
            lines: (0..<first).map { "\(series[$0])\n" },
            command: { "sh -c 'tail -n +1 -F \($0) | /usr/bin/ttyplot -t kl'" })
    else { return }
    Thread.sleep(forTimeInterval: 4)
    ttyplot.startCapture()
    Thread.sleep(forTimeInterval: 2)
    let ttyplotPerStep = (first..<first + steps).map {
        ttyplot.bytesFor(line: "\(series[$0])\n", settle: gap)
    }
    print("  ttyplot  " + distribution(ttyplotPerStep))
}

/// Mean, median, 99th percentile and maximum of byte counts.
func distribution(_ counts: [Int]) -> String {
    let sorted = counts.sorted()
    guard !sorted.isEmpty else { return "no samples" }
    let mean = Double(sorted.reduce(0, +)) / Double(sorted.count)
    return
        "mean \(Int(mean.rounded())), median \(median(sorted)), 99th percentile \(sorted[sorted.count * 99 / 100]), max \(sorted.last!) bytes over \(sorted.count) steps"
}

func median(_ values: [Int]) -> Int { values.isEmpty ? 0 : values.sorted()[values.count / 2] }

func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

// MARK: - Processes

/// A child process, its output readable through a pipe when asked.
struct Child {
    var pid: pid_t
    var output: Int32

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        if output >= 0 { close(output) }
    }

    func readOutput(timeout: Double) -> String? {
        var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(output, &buffer, buffer.count)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }
}

func spawn(_ arguments: [String], captureOutput: Bool = false) -> Child? {
    var pipe: [Int32] = [-1, -1]
    guard Glibc.pipe(&pipe) == 0 else { return nil }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    if captureOutput {
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addclose(&actions, pipe[0])
    var cArguments = arguments.map { strdup($0) } + [nil]
    defer { for argument in cArguments { free(argument) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, arguments[0], &actions, nil, &cArguments, environ)
    close(pipe[1])
    guard result == 0 else {
        close(pipe[0])
        return nil
    }
    if !captureOutput {
        close(pipe[0])
        return Child(pid: pid, output: -1)
    }
    return Child(pid: pid, output: pipe[0])
}

/// Runs a program to its end and returns its standard output, or nil if it could not run or failed.
func runProgram(_ arguments: [String]) -> String? {
    guard let child = spawn(arguments, captureOutput: true) else { return nil }
    var output = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(child.output, &buffer, buffer.count)
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        output.append(contentsOf: buffer[0..<count])
    }
    close(child.output)
    var status: Int32 = 0
    waitpid(child.pid, &status, 0)
    return status == 0 ? String(decoding: output, as: UTF8.self) : nil
}

/// User + system CPU seconds a process has used (from /proc/PID/stat).
func cpuSeconds(of pid: pid_t) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command name: state is field 3; utime and stime are fields 14 and 15 (1-based).
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Appends 20 lines to `file` at uneven intervals and times each until `child` (an `export --follow`)
/// prints its step; sorted. Stops the child.
func lineLatencies(_ child: Child, file: String) -> [Double] {
    var latencies: [Double] = []
    var pending = ""
    for step in 0..<20 {
        Thread.sleep(forTimeInterval: 0.05 + Double(step % 7) * 0.07)
        let written = now()
        appendLine("{\"step\": \(step), \"kl\": 0.02}\n", to: file)
        while !pending.contains("\"step\": \(step),") {
            guard let chunk = child.readOutput(timeout: 5) else { break }
            pending += chunk
        }
        latencies.append(now() - written)
        pending = ""
    }
    child.stop()
    return latencies.sorted()
}

// MARK: - Remote: a step written on another machine to it read here

/// `kltop export --follow 127.0.0.1:FILE` through OpenSSH to a throwaway sshd on loopback (the tests'
/// ``SSHServer``): the latency from a line appended on the "remote" side to its step on this side's
/// stdout, which is what a dashboard on a login node adds over a local file; and the first catch-up of a
/// 100k-step log, the cost of each reconnect.
func benchRemote() {
    guard FileManager.default.isExecutableFile(atPath: kltopBinary) else {
        print("remote: \(kltopBinary) not built; run Scripts/bench.sh")
        return
    }
    let server: SSHServer
    do { server = try SSHServer() } catch {
        print("remote: \(error)")
        return
    }
    defer { server.stop() }
    let directory = NSTemporaryDirectory() + "kltop-remote-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    print(
        "remote following over ssh to 127.0.0.1 (OpenSSH, loopback: the network's own latency is not in it)")
    let file = "\(directory)/remote.jsonl"
    FileManager.default.createFile(atPath: file, contents: nil)
    let ssh = ["--ssh", server.sshCommand, "--remote-kltop", kltopBinary]
    guard
        let child = spawn(
            [kltopBinary, "export", "--follow"] + ssh + ["127.0.0.1:\(file)"], captureOutput: true)
    else { return }
    Thread.sleep(forTimeInterval: 2)
    let latencies = lineLatencies(child, file: file)
    print(
        "  a step written there to it read here: median \(String(format: "%5.1f", latencies[latencies.count / 2] * 1e3)) ms, max \(String(format: "%6.1f", latencies.last! * 1e3)) ms (20 lines, inotify on the remote side)"
    )

    let history = "\(directory)/history.jsonl"
    var text = ""
    for step in 0..<100_000 { text += "{\"step\": \(step), \"kl\": \(0.02 + Double(step % 97) * 1e-5)}\n" }
    FileManager.default.createFile(atPath: history, contents: Data(text.utf8))
    let start = now()
    guard let full = spawn([kltopBinary, "export"] + ssh + ["127.0.0.1:\(history)"], captureOutput: true)
    else { return }
    var lines = 0
    while let chunk = full.readOutput(timeout: 30) {
        lines += chunk.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        if chunk.isEmpty { break }
    }
    let seconds = now() - start
    full.stop()
    print(
        "  100k steps sent again from the start (what a reconnect costs): \(String(format: "%.2f", seconds)) s, \(lines) lines"
    )
}
