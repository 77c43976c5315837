import RunLogs

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One file followed by name, as `tail -F` follows it, feeding one run's reader.
///
/// What it survives, and how:
/// - a file that does not exist yet: waited for, and said so;
/// - rotation (rename, then a new file at the path) and delete + re-create: the old file is read to its end
///   through the descriptor still open on it, then the new one from its start;
/// - atomic replace (a temporary file renamed over the path): when the new file starts with every byte
///   already read (checked on the first and last 4 KiB read), it is a continuation and reading goes on
///   from the same offset, so no record is read twice;
/// - truncation, copytruncate and whole-file rewrites: the size drops below what was read, or the bytes
///   already read are no longer what the file holds; reading starts again from byte 0 and the reader is told
///   (``SampleReader/restart()``); a rewrite in place is read only once it is over (see
///   ``rewriteInPlaceSeenAtSize``);
/// - a partial last line: held by the reader until its newline arrives, or taken after a quiet period if
///   it is complete on its own;
/// - a run written to several files one after another (a ``RunGroup``: a TensorBoard run's event files,
///   a trainer's checkpoints): the later files are read as the group's succession says, by the same reader.
///
/// What copytruncate can lose by its nature: lines the writer appended after kltop's last read and before
/// the copy was truncated exist only in the copy, which kltop does not follow.
///
/// A FIFO or a pipe (`<(ssh node cat run.jsonl)`) is read until its writer closes it, however long the
/// writer takes to open it or to write; then the run has ended.
final class FollowedFile {
    /// The file being read; for a run of several files, the current one.
    private(set) var path: String
    /// The group of files this run is, with the rank of the one being read; nil for a run of one file.
    private let group: RunGroup?
    private var rank: RunGroup.Rank?
    /// The group's members ranked after the one being read, in rank order.
    private var later: [(rank: RunGroup.Rank, path: String)] = []
    let run: Int
    private let options: FollowOptions
    private(set) var reader: (any SampleReader)?
    private var descriptor: Int32 = -1
    private var identity: FileIdentity?
    /// Bytes of the current file consumed so far.
    private var offset = 0
    /// The first and the last bytes consumed, to recognise a replacement that continues this file.
    private var head: [UInt8] = []
    private var tail = TailBytes(capacity: 4096)
    /// Size seen at the last check, so that unchanged files cost one fstat.
    private var lastSize = -1
    /// The modification time last seen, and when it was first seen; and the one the content was last
    /// checked at.
    private var lastModification = FileIdentity.Time()
    private var lastModificationSeenAt = -Double.infinity
    private var checkedModification = FileIdentity.Time()
    /// The size at which the file was found rewritten in place, while its writer may still be at it.
    ///
    /// stable-baselines3 adds a key by writing the whole file again from byte 0 over the old content: until
    /// its writes pass the old end, the file is the new content's start followed by the rest of the old,
    /// with a row torn between them, which read as rows would be bad lines or, worse, a wrong KL value.
    /// The size says when that is over: it grows past the old end only once everything before is new. So
    /// nothing is read until the file is larger than it was when the rewrite was seen (or has been still
    /// for a second); then it is read again from the start. A writer that adds keys quickly may have begun
    /// the next rewrite by then (or be at one when kltop first opens the file): what was read from the start
    /// is then taken back if it holds a bad record (the torn row and the old rows after it), and the rewrite
    /// waited out again (``startOfCleanRead(now:isStill:)``).
    private var rewriteInPlaceSeenAtSize: Int?
    /// Whether ``rewriteInPlaceSeenAtSize`` was set only because a first read from the start met a bad record
    /// (a rewrite may be under way, or the log just has a bad line): no "rewritten" notice then.
    private var rewriteInPlaceIsOnlySuspected = false
    /// When reading this file from its start first had to be taken back (``startOfCleanRead(now:isStill:)``).
    private var cleanReadAttemptedAt: Double?
    /// A rewrite in place is being read again from the start: said once it has been read.
    private var announceRewriteWhenRead = false
    /// True while a new, still empty file is at the path and the open one is read on (see
    /// ``switchedToNewFile(_:_:)``): the follower then checks this file every round, because the writer's
    /// appends to the renamed old file are reported under another name.
    private(set) var awaitingNewFile = false
    private var lastActivity: Double
    /// The statistics last reported, so that a change without samples is reported too.
    private var reported = ReadStatistics()
    /// The run's name as its reader last gave it (``SampleReader/runName``), once reported.
    private var reportedRunName: String?
    private var announcedProblem: String?
    /// The errno of a failed read in this round, said once the round's samples are out.
    private var readFailure: Int32?
    /// A FIFO's or pipe's writer has closed it (or it has no writer and never had one after ours came): what
    /// it held has been read, and nothing more can come.
    private(set) var streamHasEnded = false
    /// Reading a rotated log's next part, the last step read from the parts before it: the part's first
    /// records up to that step are the overlap of the two (a rotation made while kltop was not reading)
    /// and are skipped.
    private var overlapEndsAfterStep: Int64?
    private var lastStep: Int64?
    /// Overlapping records skipped, taken off the reader's counts.
    private var overlapSkippedInAll = 0
    /// A compressed file is finished (nobody appends to a `.gz`): once it has been read to its end and has
    /// been still for the quiet period, its stream is finished, so that a file cut short is reported and a
    /// last line without its newline read, as reading it to the end would.
    private var compressedStreamFinished = false
    /// Shared by every file of one follower (they are read one after another on its thread): a buffer of
    /// its own per file cost a sweep of 256 runs 150 MB of resident memory, the pages each file's reads
    /// touched.
    private let readBuffer: ReadBuffer
    private static let bufferSize = ReadBuffer.size
    private static let sampleSize = 4096

    init(
        path: String, run: Int, options: FollowOptions, now: Double,
        member: (group: RunGroup, rank: RunGroup.Rank)? = nil, buffer: ReadBuffer = ReadBuffer()
    ) {
        self.path = path
        group = member?.group
        rank = member?.rank
        self.run = run
        self.options = options
        lastActivity = now
        readBuffer = buffer
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Reads what is new, up to the round's byte budget. Returns true when the budget ran out (more is
    /// waiting), so the caller comes back soon.
    func poll(now: Double, emit: (FollowEvent) -> Void) -> Bool {
        guard !streamHasEnded else { return false }
        var samples: [MetricSample] = []
        defer { flush(&samples, emit) }
        if group?.succession == .supersedes && !later.isEmpty { moveToLatestMember() }
        if descriptor < 0 && !openPath(emit: emit) { return false }
        var isStill = false
        if let current = FileIdentity.of(descriptor: descriptor), current.kind == .regular {
            defer { lastSize = current.size }
            isStill = hasBeenStillForASecond(current, now: now)
            if current.size < offset {
                rewriteInPlaceSeenAtSize = nil
                cleanReadAttemptedAt = nil  // new content: its read from the start gets its own 3 seconds
                restartFromTheBeginning(emit, reason: "truncated")
            } else if let size = rewriteInPlaceSeenAtSize {
                guard current.size > size || isStill else { return false }
                // Said once read, if a rewrite was seen (now, or before a read from the start was taken back).
                let rewriteWasSeen = announceRewriteWhenRead || !rewriteInPlaceIsOnlySuspected
                restartFromTheBeginning(emit, reason: nil)
                announceRewriteWhenRead = rewriteWasSeen
            } else if current.size != lastSize || (isStill && current.modification != checkedModification) {
                // A rewrite may also keep the size (truncated and written again to the same length): then
                // only the modification time tells, and the file is looked into once it is still.
                checkedModification = current.modification
                if !stillHoldsWhatWasRead(size: current.size) {
                    if isStill {
                        restartFromTheBeginning(emit, reason: "rewritten")
                    } else {
                        rewriteInPlaceSeenAtSize = current.size
                        rewriteInPlaceIsOnlySuspected = false
                        return false
                    }
                }
            }
        }
        let start = startOfCleanRead(now: now, isStill: isStill)
        var (read, hitEnd) = readAvailable(&samples, budget: options.bytesPerRound)
        if let start {
            if hitEnd && (reader?.statistics.badLines ?? 0) > start.badLines {
                samples.removeAll()
                readingPosition = start
                rewriteInPlaceSeenAtSize = FileIdentity.of(descriptor: descriptor)?.size ?? 0
                rewriteInPlaceIsOnlySuspected = true
                return false
            }
            cleanReadAttemptedAt = nil
        }
        if announceRewriteWhenRead && offset > 0 {
            announceRewriteWhenRead = false
            emit(
                .notice(
                    run: run, Notice(.truncated, path: path, "rewritten; reading it again from the start")))
        }
        // At the end of the open file another may take over: the run's next file, or a new file at the path.
        // It may already hold everything its writer will write for a while: no event is coming to bring us
        // back for it, so it is read now (and so is the one after it, if there is one).
        while hitEnd && (movedToNextFile(&samples, emit) || switchedToNewFile(&samples, emit)) {
            let (more, end) = readAvailable(&samples, budget: options.bytesPerRound)
            read += more
            hitEnd = end
        }
        if let code = readFailure {
            readFailure = nil
            announce(Notice(.cannotRead, path: path, "cannot be read: \(Errno(code).message)"), emit)
        }
        if isWaitingForWriter {
            isWaitingForWriter = false
            announce(Notice(.waitingForWriter, path: path, "waiting for a writer to open it"), emit)
        }
        if read > 0 { lastActivity = now }
        if streamHasEnded {
            reader?.finish { collect($0, &samples) }
            flush(&samples, emit)
            emit(.notice(run: run, Notice(.streamEnded, path: path, Self.endedMessage(offset: offset))))
            emit(.runEnded(run: run))
            return false
        }
        let moreWaiting = !hitEnd
        if hitEnd && isStill && !compressedStreamFinished && now - lastActivity >= options.quietPeriod,
            case .some(.some) = Compression.recognise(head)
        {
            compressedStreamFinished = true
            reader?.finish { collect($0, &samples) }
        }
        if hitEnd {
            if let held = reader?.heldByteCount, held > 0, now - lastActivity >= options.quietPeriod {
                reader?.takeHeldRecordIfComplete { collect($0, &samples) }
            }
        }
        return moreWaiting
    }

    /// The file is taken as complete (reading to the end, not following): a last record without its
    /// terminator is read, or counted as bad.
    func finish(emit: (FollowEvent) -> Void) {
        var samples: [MetricSample] = []
        reader?.finish { collect($0, &samples) }
        flush(&samples, emit)
    }

    /// Another file of this run's group has been found. Taken if it ranks after the one being read (an
    /// earlier one is older than what is being read, and ignored); read as the group's succession says.
    func add(member path: String, rank: RunGroup.Rank) {
        guard let current = self.rank, rank > current, !later.contains(where: { $0.path == path }) else {
            return
        }
        later.append((rank, path))
        later.sort { $0.rank < $1.rank }
    }

    /// A group whose members continue one another, at the end of the current one with a later one waiting:
    /// the reader finishes this stream (a record cut short is counted) and goes on with the next file from
    /// its start. A member deleted before it was read is passed over.
    private func movedToNextFile(_ samples: inout [MetricSample], _ emit: (FollowEvent) -> Void) -> Bool {
        guard group?.succession == .continues else { return false }
        while let next = later.first {
            let fd = Glibc.open(next.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0, let opened = FileIdentity.of(descriptor: fd) else {
                let code = errno
                if fd >= 0 { close(fd) }
                if code == ENOENT || code == ENOTDIR {
                    later.removeFirst()
                    continue
                }
                announce(
                    Notice(.cannotOpen, path: next.path, "cannot be opened: \(Errno(code).message)"), emit)
                return false
            }
            reader?.finish { collect($0, &samples) }
            if group?.kind == .rotatedLog { overlapEndsAfterStep = lastStep }
            if descriptor >= 0 { close(descriptor) }
            descriptor = fd
            identity = opened
            later.removeFirst()
            (rank, path) = (next.rank, next.path)
            resetPosition()
            return true
        }
        return false
    }

    /// A group whose members supersede one another, with later ones found: reading moves to the latest at
    /// once (it holds everything the one being read holds), and the reader restarts on it, so that what it
    /// has already read is recognised and skipped.
    private func moveToLatestMember() {
        guard let latest = later.last else { return }
        later.removeAll()
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        identity = nil
        (rank, path) = (latest.rank, latest.path)
        reader?.restart()
        resetPosition()
        announcedProblem = nil
    }

    // MARK: - Opening

    /// Opens the path if it can; reports once why not. The current member of a group, gone before it was
    /// opened while later ones are waiting, is passed over.
    private func openPath(emit: (FollowEvent) -> Void) -> Bool {
        var fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        while fd < 0 && (errno == ENOENT || errno == ENOTDIR), let next = later.first {
            later.removeFirst()
            (rank, path) = (next.rank, next.path)
            fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        }
        guard fd >= 0 else {
            let code = errno
            let problem: Notice =
                switch code {
                case ENOENT, ENOTDIR: Notice(.waitingForFile, path: path, "waiting for the file to appear")
                case EACCES, EPERM:
                    Notice(.permissionDenied, path: path, "permission denied (kltop only needs to read it)")
                default: Notice(.cannotOpen, path: path, "cannot be opened: \(Errno(code).message)")
                }
            announce(problem, emit)
            return false
        }
        guard let opened = FileIdentity.of(descriptor: fd) else {
            close(fd)
            return false
        }
        switch opened.kind {
        case .regular, .fifo: break
        case .directory:
            // Only a path named on its own can be a directory here (scans and globs list files), one that
            // did not exist when kltop started: its spec now follows it as a directory.
            close(fd)
            announce(Notice(.following, path: path, "is a directory: following the run logs in it"), emit)
            return false
        case .device, .other:
            close(fd)
            announce(
                Notice(
                    .notAFile, path: path,
                    "is a device, not a log file (kltop reads files, FIFOs and standard input)"),
                emit)
            return false
        }
        if announcedProblem != nil {
            announcedProblem = nil
            emit(.notice(run: run, Notice(.following, path: path, "following")))
        }
        descriptor = fd
        identity = opened
        lastSize = -1
        return true
    }

    private func announce(_ notice: Notice, _ emit: (FollowEvent) -> Void) {
        guard announcedProblem != notice.message else { return }
        announcedProblem = notice.message
        emit(.notice(run: run, notice))
    }

    // MARK: - Reading

    /// Reads until the end of what is there or the budget; returns the bytes read and whether the end was
    /// reached.
    private func readAvailable(_ samples: inout [MetricSample], budget: Int) -> (Int, Bool) {
        var total = 0
        while total < budget {
            let count = read(descriptor, readBuffer.bytes, min(Self.bufferSize, budget - total))
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                // EAGAIN is an empty FIFO; anything else (EIO from a failing disk or a lost network mount)
                // is said, not taken for the end of the file. Either way: try again next round.
                if code != EAGAIN && code != EWOULDBLOCK { readFailure = code }
                return (total, true)
            }
            if count == 0 {
                if identity?.kind == .fifo { noticeEndOfStream() }
                return (total, true)
            }
            if isBeingRewrittenInPlace() {
                _ = lseek(descriptor, off_t(offset), SEEK_SET)  // as if these bytes had not been read
                return (total, true)
            }
            consume(UnsafeRawBufferPointer(start: readBuffer.bytes, count: count), &samples)
            total += count
        }
        return (total, false)
    }

    /// A FIFO or pipe read nothing: either its writer has closed it (the end), or no writer has opened it
    /// yet. Linux tells them apart: a FIFO opened before its writer reports a hang-up only once a writer has
    /// come and gone (a pipe's writer is there from the start).
    private func noticeEndOfStream() {
        var descriptors = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
        if Glibc.poll(&descriptors, 1, 0) == 1 && descriptors[0].revents & Int16(POLLHUP) != 0 {
            streamHasEnded = true
            close(descriptor)
            descriptor = -1
        } else if offset == 0 {
            isWaitingForWriter = true
        }
    }

    /// True while a FIFO is open with no writer yet: what the run is waiting for is said once.
    private var isWaitingForWriter = false

    /// Whether this run is a FIFO or pipe that has not ended: it is read whenever it is readable, and
    /// reading to the end waits for it.
    var isOpenStream: Bool { identity?.kind == .fifo && !streamHasEnded }

    /// The descriptor to wait on while the run is an open FIFO or pipe (no inotify event tells of its data).
    var streamDescriptor: Int32? { isOpenStream && descriptor >= 0 ? descriptor : nil }

    private static func endedMessage(offset: Int) -> String {
        offset == 0
            ? "closed by its writer before anything was written" : "closed by its writer: read to its end"
    }

    /// Checked after each read, before its bytes are used: has the start of the file changed since it was
    /// read? A writer rewriting in place (see ``rewriteInPlaceSeenAtSize``) writes the start first, so if it
    /// is unchanged, the bytes just read were read before the rewrite could reach them; if it changed, they
    /// may be torn, and the rewrite is waited out.
    private func isBeingRewrittenInPlace() -> Bool {
        guard identity?.kind == .regular, !head.isEmpty, !Self.matches(head, in: descriptor, at: 0) else {
            return false
        }
        rewriteInPlaceSeenAtSize = FileIdentity.of(descriptor: descriptor)?.size ?? offset
        rewriteInPlaceIsOnlySuspected = false
        return true
    }

    private func consume(_ bytes: UnsafeRawBufferPointer, _ samples: inout [MetricSample]) {
        if reader == nil {
            reader = options.makeReader(path: path)
        }
        if head.count < Self.sampleSize { head += bytes.prefix(Self.sampleSize - head.count) }
        tail.append(bytes)
        offset += bytes.count
        reader!.consume(bytes) { collect($0, &samples) }
    }

    /// Takes a sample the reader made, unless it is the overlap of a rotated log's part with the one before.
    private func collect(_ sample: MetricSample, _ samples: inout [MetricSample]) {
        if let overlap = overlapEndsAfterStep {
            guard sample.step > overlap else {
                overlapSkippedInAll += 1
                return
            }
            overlapEndsAfterStep = nil
        }
        lastStep = sample.step
        samples.append(sample)
    }

    /// Reports new samples, or new statistics alone (a bad line, a record without KL) so that nothing the
    /// reader counted goes unreported.
    private func flush(_ samples: inout [MetricSample], _ emit: (FollowEvent) -> Void) {
        guard let reader else { return }
        if let name = reader.runName, name != reportedRunName {
            reportedRunName = name
            emit(.runNamed(run: run, name: name, path: group?.folder ?? path))
        }
        var statistics = reader.statistics
        statistics.repeatedSteps = overlapSkippedInAll
        statistics.records -= overlapSkippedInAll
        statistics.samples -= overlapSkippedInAll
        guard
            !samples.isEmpty || statistics.records != reported.records
                || statistics.badLines != reported.badLines
                || statistics.missingValues != reported.missingValues
                || statistics.repeatedSteps != reported.repeatedSteps
                || statistics.heldAtEnd != reported.heldAtEnd
        else { return }
        reported = statistics
        emit(.samples(run: run, samples, metricKey: reader.metricKey, statistics: statistics))
        samples.removeAll()
    }

    // MARK: - Rotation, replacement, truncation

    /// At the end of the open file: has the path been given to another file? Then the open one is read to
    /// its end and the new one takes over; returns true when that happened.
    private func switchedToNewFile(_ samples: inout [MetricSample], _ emit: (FollowEvent) -> Void) -> Bool {
        guard let identity, identity.kind == .regular else { return false }
        guard case .success(let named) = FileIdentity.of(path: path), !named.isSameFile(as: identity) else {
            return false  // same file, or the path is gone for now: keep reading the open one
        }
        // An empty new file may have been made by logrotate (`create`) while the writer still appends to the
        // old one until it is told to reopen: the old one is read on until the new one has something in it.
        guard named.size > 0 else {
            awaitingNewFile = true
            return false
        }
        awaitingNewFile = false
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0, let opened = FileIdentity.of(descriptor: fd), opened.kind == .regular else {
            if fd >= 0 { close(fd) }
            return false
        }
        // The writer has made the new file, so it is done with the old one: whatever it wrote there between
        // our last read and the switch is read now, before the old descriptor is let go.
        _ = readAvailable(&samples, budget: .max)
        let continues =
            offset > 0 && Self.holds(head: head, tail: tail, atOffset: offset, in: fd, size: opened.size)
        close(descriptor)
        descriptor = fd
        self.identity = opened
        lastSize = opened.size
        if continues {
            _ = lseek(fd, off_t(offset), SEEK_SET)
            emit(
                .notice(
                    run: run,
                    Notice(.replacedByContinuation, path: path, "replaced by a file that continues it")))
        } else {
            reader?.finish { collect($0, &samples) }
            reader?.restart()
            resetPosition()
            emit(
                .notice(
                    run: run, Notice(.rotated, path: path, "rotated or re-created; following the new file")))
        }
        return true
    }

    /// Whether the file's modification time has not changed for a second: its writer is not in the middle
    /// of writing it.
    private func hasBeenStillForASecond(_ current: FileIdentity, now: Double) -> Bool {
        if current.modification != lastModification {
            let firstLook = lastModificationSeenAt == -.infinity
            lastModification = current.modification
            lastModificationSeenAt = now
            if firstLook {
                // A file last written a while ago has been still since: without this, a finished log with a
                // bad line near its start was taken for one being rewritten and read a second late. Two
                // seconds at least, as file times may count whole seconds (and a file server's clock lag).
                let age = current.modification.age
                if age >= 2 { lastModificationSeenAt = now - age }
            }
        }
        return now - lastModificationSeenAt >= 1
    }

    /// Whether the open file still starts with the bytes read from it (a rewrite in place that grew past
    /// the old end would otherwise go unnoticed).
    private func stillHoldsWhatWasRead(size: Int) -> Bool {
        guard offset > 0 else { return true }
        return Self.holds(head: head, tail: tail, atOffset: offset, in: descriptor, size: size)
    }

    /// Reads the file again from byte 0, telling the reader; says why, when `reason` is given.
    private func restartFromTheBeginning(_ emit: (FollowEvent) -> Void, reason: String?) {
        _ = lseek(descriptor, 0, SEEK_SET)
        reader?.restart()
        resetPosition()
        guard let reason else { return }
        emit(.notice(run: run, Notice(.truncated, path: path, "\(reason); reading it again from the start")))
    }

    /// Before a file is read from its start while its writer may be rewriting it in place (see
    /// ``rewriteInPlaceSeenAtSize``), where reading stands, to go back to: what is read must read clean
    /// (a bad record is the torn row of a rewrite under way, or an old row after it), unless the file has
    /// been still for a second (its bad records are its own), or this has been tried for 3 seconds (a
    /// writer that never pauses, or a log that starts with a bad line). Files read whole in one round only
    /// (up to 4 MiB), so that a large log is not read twice.
    private func startOfCleanRead(now: Double, isStill: Bool) -> ReadingPosition? {
        guard options.follows, offset == 0, identity?.kind == .regular else { return nil }
        guard !isStill else {
            cleanReadAttemptedAt = nil  // read as it is; a later read from the start gets its own 3 seconds
            return nil
        }
        let firstTry = cleanReadAttemptedAt ?? now
        cleanReadAttemptedAt = firstTry
        return now - firstTry < 3 ? readingPosition : nil
    }

    /// Everything that says how far the open file has been read: the reader's state with it.
    struct ReadingPosition {
        var reader: (any SampleReader)?
        var offset: Int
        var head: [UInt8]
        var tail: TailBytes
        var badLines: Int { reader?.statistics.badLines ?? 0 }
    }

    private var readingPosition: ReadingPosition {
        get { ReadingPosition(reader: reader, offset: offset, head: head, tail: tail) }
        set {
            (reader, offset, head, tail) = (newValue.reader, newValue.offset, newValue.head, newValue.tail)
            _ = lseek(descriptor, off_t(offset), SEEK_SET)
        }
    }

    private func resetPosition() {
        offset = 0
        compressedStreamFinished = false
        head.removeAll(keepingCapacity: true)
        tail.removeAll()
        lastSize = -1
        rewriteInPlaceSeenAtSize = nil
        rewriteInPlaceIsOnlySuspected = false
    }

    /// True when the file behind `fd` has `head` at its start and `tail` just before `offset`.
    private static func holds(head: [UInt8], tail: TailBytes, atOffset offset: Int, in fd: Int32, size: Int)
        -> Bool
    {
        guard size >= offset else { return false }
        return matches(head, in: fd, at: 0) && matches(tail.bytes, in: fd, at: offset - tail.count)
    }

    private static func matches(_ expected: [UInt8], in fd: Int32, at position: Int) -> Bool {
        guard !expected.isEmpty else { return true }
        var actual = [UInt8](repeating: 0, count: expected.count)
        let count = actual.withUnsafeMutableBytes {
            pread(fd, $0.baseAddress, expected.count, off_t(position))
        }
        return count == expected.count && actual == expected
    }
}

/// The last `capacity` bytes of a stream.
struct TailBytes {
    let capacity: Int
    private var storage: [UInt8] = []

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { storage.count }
    var bytes: [UInt8] { storage }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if chunk.count >= capacity {
            storage = Array(chunk.suffix(capacity))
            return
        }
        storage += chunk
        if storage.count > capacity { storage.removeFirst(storage.count - capacity) }
    }

    mutating func removeAll() { storage.removeAll(keepingCapacity: true) }
}

/// The buffer files are read into, 1 MiB; one per follower, lent to each of its files in turn.
final class ReadBuffer {
    static let size = 1 << 20
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: ReadBuffer.size, alignment: 16)

    deinit { bytes.deallocate() }
}
