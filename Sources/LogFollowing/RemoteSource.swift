import RunLogs

#if canImport(Glibc)
    import Glibc
#endif

/// A `host:path` argument: the runs another machine's kltop reads there, streamed over ssh
/// (``RemoteStream``), or where that machine has no kltop, one file's bytes through `tail -F`.
///
/// Following, a connection that fails or drops is shown on its runs and opened again with backoff; the
/// other side reads its logs again from the start, and the steps kltop already has of each run are
/// skipped, so none is lost or repeated. Reading to the end (`check`, `export`), it is opened once.
final class RemoteSource {
    let location: RemoteLocation
    private let options: FollowOptions
    private let remote: RemoteOptions
    private var connection: ChildProcess?
    /// Where the stream is read from: kltop there, or `tail` of the file when kltop was not found.
    private var usesTail = false
    private var nextAttempt = 0.0
    private var backoff = 1.0
    private var receivedThisConnection = false
    /// When the stream ended: the program is reaped without waiting (an `--ssh` wrapper that lingers after
    /// closing its output must not stall the follower), and killed if it has not exited a little later.
    private var closingSince: Double?
    static let lingering = 2.0
    private var lastProblem: String?
    private(set) var hasEnded = false
    private var pendingLine: [UInt8] = []
    private var errorTail: [UInt8] = []
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
    static let longestLine = 1 << 20
    static let longestBackoff = 30.0

    /// A run the other side reported, by the name and path it first gave it on a connection.
    private struct Run {
        let source: Int
        var name: String
        /// Steps handed on; a new connection skips this many of the run's steps (they are sent again).
        var delivered = 0
        var lastStep: Int64?
        var pending: [MetricSample] = []
        var metricKey: String?
        var statistics = ReadStatistics()
        var reported = false
    }

    /// By the path the other side gave the run and its place among the runs of that path on the
    /// connection (a store holds several): never by name, which the other side may work out differently
    /// on another connection (a run that appeared since makes a short name ambiguous).
    private var runs: [String: Run] = [:]
    /// Runs announced on this connection, by path.
    private var runsOfPath: [String: Int] = [:]
    /// Runs with steps or statistics to hand on at the end of the round.
    private var changed: [String] = []
    /// This connection's names for runs (a rename applies to the lines after it), to the key in ``runs``.
    private var keyByName: [String: String] = [:]
    /// Steps of each run seen on this connection, to skip those handed on before.
    private var seenThisConnection: [String: Int] = [:]
    /// The run read through `tail` when the other side has no kltop.
    private var tailRun: Int?
    private var tailReader: (any SampleReader)?
    private var tailOffset = 0
    private var tailReported = ReadStatistics()
    private var tailSamples: [MetricSample] = []

    init(location: RemoteLocation, options: FollowOptions) {
        self.location = location
        self.options = options
        remote = options.remote
    }

    deinit { buffer.deallocate() }

    var descriptors: [Int32] {
        guard let connection, closingSince == nil else { return [] }
        return [connection.output, connection.errors]
    }

    /// The path runs of this source are shown with: `host:path`.
    var shownPath: String { location.description }

    /// Reads what has arrived; opens the connection when it is time. `addRun` gives a run the other side
    /// reported its source number (the follower's run assembly names it). Returns true when more is waiting.
    func poll(
        now: Double, addRun: (_ name: String, _ path: String) -> Int, emit: (FollowEvent) -> Void
    ) -> Bool {
        guard !hasEnded else { return false }
        if connection == nil {
            guard now >= nextAttempt else { return false }
            open(now: now, emit: emit)
            guard connection != nil else { return false }
        }
        if let since = closingSince, let child = connection {
            if child.reap() == nil {
                guard now - since >= Self.lingering else { return false }
                child.end()
            }
            closed(now: now, emit: emit)
            return false
        }
        let (moreWaiting, ended) = read(addRun: addRun, emit: emit)
        drainErrors()
        flush(emit: emit)
        if ended {
            closingSince = now
            if connection?.reap() != nil { closed(now: now, emit: emit) }
        }
        return moreWaiting
    }

    private func open(now: Double, emit: (FollowEvent) -> Void) {
        let command =
            usesTail
            ? RemoteCommand.tail(location, follow: options.follows, offset: tailOffset)
            : RemoteCommand.export(
                location, options: remote, follow: options.follows, metric: options.metric.requestedKey,
                inputFormat: options.inputFormat?.argumentName)
        switch ChildProcess.start(RemoteCommand.arguments(remote, location, remote: command)) {
        case .success(let child):
            connection = child
            receivedThisConnection = false
            keyByName = [:]
            runsOfPath = [:]
            seenThisConnection = [:]
            pendingLine = []
            errorTail = []
        case .failure(let error):
            let program = remote.sshCommand.first ?? "ssh"
            problem("cannot run \(program): \(error)", now: now, emit: emit)
        }
    }

    /// Reads stdout up to the round's budget: whether the budget ran out with more waiting, and whether
    /// the stream has ended (the other side closed it).
    private func read(addRun: (String, String) -> Int, emit: (FollowEvent) -> Void) -> (Bool, Bool) {
        guard let connection else { return (false, false) }
        var total = 0
        while total < options.bytesPerRound {
            let count = Glibc.read(connection.output, buffer, 1 << 16)
            if count < 0 && errno == EINTR { continue }
            if count == 0 { return (false, true) }
            guard count > 0 else { return (false, false) }
            total += count
            let bytes = UnsafeRawBufferPointer(start: buffer, count: count)
            if !receivedThisConnection { connected(emit: emit) }
            if usesTail {
                consumeTail(bytes, addRun: addRun, emit: emit)
            } else {
                consumeStream(bytes, addRun: addRun, emit: emit)
            }
        }
        return (true, false)
    }

    private func connected(emit: (FollowEvent) -> Void) {
        receivedThisConnection = true
        backoff = 1
        guard lastProblem != nil else { return }
        lastProblem = nil
        let notice = Notice(.following, path: shownPath, "connected again; reading on")
        let known = knownRuns
        if known.isEmpty { emit(.notice(run: nil, notice)) }
        for run in known { emit(.notice(run: run, notice)) }
    }

    private func consumeStream(
        _ bytes: UnsafeRawBufferPointer, addRun: (String, String) -> Int, emit: (FollowEvent) -> Void
    ) {
        var start = 0
        for index in 0..<bytes.count where bytes[index] == UInt8(ascii: "\n") {
            if pendingLine.isEmpty {
                line(Substring(decoding: bytes[start..<index], as: UTF8.self), addRun: addRun, emit: emit)
            } else {
                pendingLine += bytes[start..<index]
                line(Substring(decoding: pendingLine, as: UTF8.self), addRun: addRun, emit: emit)
                pendingLine.removeAll(keepingCapacity: true)
            }
            start = index + 1
        }
        if start < bytes.count {
            pendingLine += bytes[start...]
            // A line that never ends is not the stream kltop sends: dropped, never held without bound.
            if pendingLine.count > Self.longestLine { pendingLine = [] }
        }
    }

    private func line(_ text: Substring, addRun: (String, String) -> Int, emit: (FollowEvent) -> Void) {
        guard let decoded = RemoteStream.decode(text) else { return }
        switch decoded {
        case .sample(let name, let sample):
            guard let key = keyByName[name] else { return }
            let seen = seenThisConnection[key, default: 0]
            seenThisConnection[key] = seen + 1
            if seen < runs[key]!.delivered {
                // Sent before the connection dropped; the last of them must be the last step kltop has.
                if seen == runs[key]!.delivered - 1 && sample.step != runs[key]!.lastStep {
                    emit(
                        .notice(
                            run: runs[key]!.source,
                            Notice(
                                .truncated, path: shownPath,
                                "the log changed while the connection was down: steps before this one were skipped"
                            )))
                }
                return
            }
            if runs[key]!.pending.isEmpty && runs[key]!.reported { changed.append(key) }
            runs[key]!.pending.append(sample)
            runs[key]!.delivered += 1
            runs[key]!.lastStep = sample.step
        case .run(let name, let path):
            let place = runsOfPath[path, default: 0]
            runsOfPath[path] = place + 1
            let key = path + "\u{0}\(place)"
            keyByName[name] = key
            if let run = runs[key], run.name != name {
                // Named otherwise by the other side this time: the name it gives now is the one to show.
                runs[key]!.name = name
                emit(.runNamed(run: run.source, name: "\(location.host):\(name)", path: shownPath))
            }
            if runs[key] == nil {
                let source = addRun("\(location.host):\(name)", "\(location.host):\(path)")
                runs[key] = Run(source: source, name: name)
                changed.append(key)
            }
        case .renamed(let old, let new):
            guard let key = keyByName.removeValue(forKey: old) else { return }
            keyByName[new] = key
            if runs[key]!.name != new {
                runs[key]!.name = new
                emit(.runNamed(run: runs[key]!.source, name: "\(location.host):\(new)", path: shownPath))
            }
        case .read(let name, let metricKey, let statistics):
            guard let key = keyByName[name] else { return }
            if runs[key]!.pending.isEmpty && runs[key]!.reported { changed.append(key) }
            runs[key]!.metricKey = metricKey
            runs[key]!.statistics = statistics
            runs[key]!.reported = false
        case .notice(let name, let notice):
            let remoteNotice = Notice(
                notice.kind, path: "\(location.host):\(notice.path)", notice.message)
            emit(.notice(run: name.flatMap { keyByName[$0] }.flatMap { runs[$0]?.source }, remoteNotice))
        case .withoutKL(let path, let statistics):
            emit(.logWithoutKL(path: "\(location.host):\(path)", statistics: statistics))
        case .ended(let name):
            if let key = keyByName[name], let run = runs[key] {
                flush(emit: emit)
                emit(.runEnded(run: run.source))
            }
        case .caughtUp, .unknown:
            break
        }
    }

    /// Hands on each run's steps and what reading found, once per round.
    private func flush(emit: (FollowEvent) -> Void) {
        for key in changed {
            let run = runs[key]!
            emit(.samples(run: run.source, run.pending, metricKey: run.metricKey, statistics: run.statistics))
            runs[key]!.pending.removeAll(keepingCapacity: true)
            runs[key]!.reported = true
        }
        changed.removeAll(keepingCapacity: true)
        if let tailRun, let tailReader,
            !tailSamples.isEmpty || tailReader.statistics != tailReported
        {
            tailReported = tailReader.statistics
            emit(
                .samples(run: tailRun, tailSamples, metricKey: tailReader.metricKey, statistics: tailReported)
            )
            tailSamples.removeAll(keepingCapacity: true)
        }
    }

    private func consumeTail(
        _ bytes: UnsafeRawBufferPointer, addRun: (String, String) -> Int, emit: (FollowEvent) -> Void
    ) {
        if tailRun == nil {
            tailRun = addRun(
                "\(location.host):\(RunNaming.name(forPath: location.path))", shownPath)
        }
        if tailReader == nil { tailReader = options.makeReader(path: location.path) }
        tailReader!.consume(bytes) { tailSamples.append($0) }
        tailOffset += bytes.count
    }

    private func drainErrors() {
        guard let connection else { return }
        while true {
            let count = Glibc.read(connection.errors, buffer, 1 << 16)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            errorTail += UnsafeRawBufferPointer(start: buffer, count: count)
            if errorTail.count > 4096 { errorTail.removeFirst(errorTail.count - 4096) }
        }
    }

    /// The connection is over: the stream's end read, the program reaped. What it said decides what next.
    private func closed(now: Double, emit: (FollowEvent) -> Void) {
        guard let child = connection else { return }
        drainErrors()
        let status = child.reap() ?? -1
        connection = nil
        closingSince = nil
        if usesTail, !pendingLine.isEmpty { pendingLine = [] }
        let said = lastErrorLine()
        if !usesTail && status == RemoteCommand.noKltopStatus && !receivedThisConnection {
            // No kltop there: one file, through tail (every format that is only appended to reads so).
            usesTail = true
            let tried = remote.remoteKltop ?? "kltop, ~/.local/bin/kltop"
            emit(
                .notice(
                    run: nil,
                    Notice(
                        .readThroughTail, path: shownPath,
                        "no kltop on \(location.host) (tried \(tried)): reading the file through tail instead; "
                            + "a folder, a store or a rewritten file needs kltop there")))
            nextAttempt = now
            return
        }
        if !options.follows {
            if usesTail, tailReader != nil { tailReader!.finish { tailSamples.append($0) } }
            flush(emit: emit)
            hasEnded = true
            if status != 0 && status != 3 {
                emit(.notice(run: nil, Notice(.disconnected, path: shownPath, failure(status, said))))
            }
            for run in runs.values { emit(.runEnded(run: run.source)) }
            if let tailRun { emit(.runEnded(run: tailRun)) }
            return
        }
        problem(failure(status, said), now: now, emit: emit)
    }

    /// Shows a failed or dropped connection on this source's runs and sets the next attempt.
    private func problem(_ message: String, now: Double, emit: (FollowEvent) -> Void) {
        if !options.follows {
            hasEnded = true
            emit(.notice(run: nil, Notice(.disconnected, path: shownPath, message)))
            return
        }
        let wait = backoff
        backoff = min(backoff * 2, Self.longestBackoff)
        nextAttempt = now + wait
        let text = "\(message); retrying in \(Int(wait.rounded(.up))) s"
        lastProblem = text
        let notice = Notice(.disconnected, path: shownPath, text)
        let known = knownRuns
        if known.isEmpty { emit(.notice(run: nil, notice)) }
        for run in known { emit(.notice(run: run, notice)) }
    }

    /// The source numbers of the runs read from this place so far: a notice about the connection is shown
    /// on each (on the place itself while there are none).
    private var knownRuns: [Int] { runs.values.map(\.source).sorted() + (tailRun.map { [$0] } ?? []) }

    private func failure(_ status: Int32, _ said: String?) -> String {
        let detail = said.map { ": \($0)" } ?? ""
        if status == 255 {
            return receivedThisConnection ? "connection lost\(detail)" : "cannot connect\(detail)"
        }
        if usesTail { return "tail on \(location.host) ended (status \(status))\(detail)" }
        if status == 0 { return "the connection to \(location.host) closed\(detail)" }
        return "kltop on \(location.host) ended with status \(status)\(detail)"
    }

    /// The last line the other side (or ssh) wrote to stderr, as it is: sanitised where it is shown.
    private func lastErrorLine() -> String? {
        let lines = errorTail.split(whereSeparator: { $0 == 0x0A || $0 == 0x0D }).map {
            String(decoding: $0, as: UTF8.self)
        }
        return lines.last(where: { !$0.allSatisfy(\.isWhitespace) }).map { String($0.prefix(300)) }
    }

    /// Ends the connection (the follower is going away).
    func stop() {
        connection?.end()
        connection = nil
    }
}
