import LogFollowing

#if canImport(Glibc)
    import Glibc
#endif

/// Follows logs on a thread of its own, for the dashboard: reading and parsing them overlaps with the
/// dashboard's ingest (detector, history, alert policy) on another core, and a huge log loading never holds
/// up keys or frames.
///
/// The reader thread owns the ``LogFollower`` (it is made there and never leaves it: a follower is not
/// thread-safe) and loops as ``SourceDriver/follow(_:options:shouldStop:handle:afterRound:)`` does. What
/// each round reports is queued, in order, for the consumer, which takes everything waiting with
/// ``takeWaitingEvents()``. ``readyDescriptor`` is readable exactly while events wait, so that the
/// dashboard's one poll(2) wakes for keys and for logs alike.
///
/// The queue is bounded by the samples waiting in it: when the consumer falls behind (a slow terminal, a
/// writer at 100k lines per second), the reader waits for it to take some, so memory stays bounded and the
/// logs themselves hold what is not read yet.
///
/// `check` and `export` keep to ``SourceDriver`` on one thread: they are headless, nothing is gained by
/// overlapping their output with reading, and their output order is the reading order.
public final class BackgroundFollower: Sendable {
    /// About 8 MiB of samples: a few rounds of reading ahead, and no more than some 30 ms of ingest for the
    /// dashboard when it takes them all at once (so keys are still read that often while a log loads).
    public static let defaultMaximumWaitingSamples = 1 << 19

    private let channel: Channel
    private let thread: pthread_t

    /// Starts the reader thread on `arguments` (PATHs, as ``LogFollower`` takes them). Events are queued as
    /// they are read as long as the samples waiting stay within `maximumWaitingSamples`; one event larger
    /// than that (at most a round's bytes of one file) is queued alone.
    public init(
        arguments: [String], options: FollowOptions,
        maximumWaitingSamples: Int = BackgroundFollower.defaultMaximumWaitingSamples
    ) throws(StartError) {
        let channel = try Channel(maximumWaitingSamples: maximumWaitingSamples)
        self.channel = channel
        thread = try startSignalFreeThread(purpose: "read the logs") {
            Self.readUntilStopped(arguments: arguments, options: options, channel: channel)
        }
    }

    deinit { stop() }

    /// The events waiting (as ``takeWaitingEvents()``), and, once, where among them the logs' past ends:
    /// the events before that index were in the logs when reading started (what alerts sum up as a run's
    /// past), those after it are new.
    public func takeWaiting() -> (events: [FollowEvent], pastEndsAt: Int?) {
        channel.withQueue { queue in
            let taken = queue.events
            let end = queue.pastEndsAt
            queue.events = []
            queue.waitingSamples = 0
            queue.pastEndsAt = nil
            // Under the lock with the queue: the reader signals under it too, so nothing is missed.
            channel.ready.clear()
            if queue.readerWaitsForRoom {
                queue.readerWaitsForRoom = false
                channel.wakeReader.signal()
            }
            return (taken, end)
        }
    }

    /// Readable while events (or the end of the logs' past) wait to be taken: a pipe the reader writes a
    /// byte to.
    public var readyDescriptor: Int32 { channel.ready.readEnd }

    /// Everything the reader reported and the consumer has not taken yet, in order; empty when nothing
    /// waits. Also takes the end-of-the-past mark, for a consumer that has no use for it.
    public func takeWaitingEvents() -> [FollowEvent] { takeWaiting().events }

    /// Stops the reader and waits for its thread to end: within one round of reading (a round reads at most
    /// ``FollowOptions/bytesPerRound`` of each file), also while it waits for the logs or for room. Events
    /// not taken yet are dropped. Calling it again does nothing.
    public func stop() {
        let firstToStop = channel.withQueue { queue in
            let alreadyStopped = queue.stopRequested
            queue.stopRequested = true
            return !alreadyStopped
        }
        guard firstToStop else { return }
        channel.wakeReader.signal()
        pthread_join(thread, nil)
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    // MARK: - The reader thread

    private static func readUntilStopped(arguments: [String], options: FollowOptions, channel: Channel) {
        let follower = LogFollower(arguments: arguments, options: options)
        while !channel.isStopRequested {
            // Each event is queued as it is reported, not the round's at its end: a round reads up to
            // bytesPerRound of every file, so a round of many logs would hold millions of samples at once.
            var stopped = false
            let moreWaiting = follower.poll(now: SourceDriver.monotonicSeconds()) { event in
                if !stopped && !channel.enqueue([event]) { stopped = true }
            }
            if stopped { return }
            if !moreWaiting {
                channel.withQueue { queue in
                    guard !queue.hasCaughtUp else { return }
                    queue.hasCaughtUp = true
                    queue.pastEndsAt = queue.events.count
                    channel.ready.signal()
                }
            }
            // Only standard input was given, and it closed: nothing more can come.
            if follower.hasEnded { return }
            if !moreWaiting {
                channel.waitUntilWoken(
                    orReadable: follower.waitDescriptors,
                    timeout: min(options.pollInterval, options.quietPeriod))
            }
        }
    }
}

/// Runs `body` on a new thread that takes none of the signals meant for the program (Ctrl-C, SIGTERM,
/// SIGHUP, a terminal resize, a suspend): they must land on the main thread and interrupt its poll(2),
/// which is how the dashboard stops or redraws at once, and ncurses handles some of them. A new thread
/// inherits its creator's signal mask, so they are blocked around its creation. Faults stay unblocked,
/// so that a crash on another thread still reaches the handler that restores the terminal. `purpose`
/// completes "cannot start a thread to …".
func startSignalFreeThread(purpose: String, _ body: @escaping @Sendable () -> Void)
    throws(BackgroundFollower.StartError) -> pthread_t
{
    var blocked = sigset_t()
    sigfillset(&blocked)
    for fault in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS] {
        sigdelset(&blocked, fault)
    }
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &blocked, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
        &thread, nil,
        { context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
    guard result == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        throw BackgroundFollower.StartError(
            description: "cannot start a thread to \(purpose): \(errnoMessage(result))")
    }
    return thread
}

/// A closure handed to pthread_create, which takes a raw pointer.
private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// What the reader thread and the consumer share: the queue behind a lock, and a pipe to wake each.
///
/// `@unchecked Sendable`: `queue` is only read or written with `lock` held (``withQueue(_:)``); everything
/// else is a constant. The lock is a pthread mutex (``ThreadLock``), not Synchronization's Mutex:
/// ThreadSanitizer does not see Mutex's futex on Linux and reports every access it guards as a race, which
/// would bury a real one.
private final class Channel: @unchecked Sendable {
    struct Queue {
        var events: [FollowEvent] = []
        /// Samples in `events`: what bounds the queue (an event's size is its samples).
        var waitingSamples = 0
        var readerWaitsForRoom = false
        var stopRequested = false
        /// What the logs held at the start has been read (and queued).
        var hasCaughtUp = false
        /// Where in `events` the logs' past ends, until the consumer has been told.
        var pastEndsAt: Int?
    }

    private let lock = ThreadLock()
    private var queue = Queue()
    let maximumWaitingSamples: Int
    /// Readable exactly while `queue.events` is not empty: written and cleared under the lock, with the
    /// queue, so that the consumer can never miss events by clearing it after the reader has signalled.
    let ready: WakePipe
    /// Signalled when the consumer makes room the reader waits for, and on stop.
    let wakeReader: WakePipe

    init(maximumWaitingSamples: Int) throws(BackgroundFollower.StartError) {
        self.maximumWaitingSamples = maximumWaitingSamples
        ready = try WakePipe()
        do {
            wakeReader = try WakePipe()
        } catch {
            ready.close()
            throw error
        }
    }

    deinit {
        ready.close()
        wakeReader.close()
    }

    func withQueue<Result>(_ body: (inout Queue) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&queue)
    }

    var isStopRequested: Bool { withQueue { $0.stopRequested } }

    /// Queues a round's events in order, waiting for room while the samples waiting would pass the bound.
    /// Returns false when a stop was requested (the rest of the round is dropped).
    func enqueue(_ events: [FollowEvent]) -> Bool {
        var next = events.startIndex
        while true {
            let stopped = withQueue { queue in
                guard !queue.stopRequested else { return true }
                let wasEmpty = queue.events.isEmpty
                while next < events.endIndex {
                    let samples = events[next].sampleCount
                    let fits =
                        queue.waitingSamples == 0 || queue.waitingSamples + samples <= maximumWaitingSamples
                    guard fits else { break }
                    queue.events.append(events[next])
                    queue.waitingSamples += samples
                    next += 1
                }
                if wasEmpty && !queue.events.isEmpty { ready.signal() }
                queue.readerWaitsForRoom = next < events.endIndex
                return false
            }
            if stopped { return false }
            if next == events.endIndex { return true }
            waitUntilWoken(orReadable: [], timeout: nil)
        }
    }

    /// Waits until `descriptors` (the follower's: inotify, standard input) are readable, `timeout` seconds
    /// pass (nil: no limit), the consumer makes room, or a stop is requested.
    func waitUntilWoken(orReadable descriptors: [Int32], timeout: Double?) {
        var polled = ([wakeReader.readEnd] + descriptors).map {
            pollfd(fd: $0, events: Int16(POLLIN), revents: 0)
        }
        let milliseconds = timeout.map(LogFollower.pollMilliseconds) ?? -1
        _ = poll(&polled, nfds_t(polled.count), milliseconds)
        wakeReader.clear()
    }
}

/// A pipe used as a flag another thread's poll(2) can wait for: readable once signalled, until cleared.
public struct WakePipe: Sendable {
    public let readEnd: Int32
    let writeEnd: Int32

    init() throws(BackgroundFollower.StartError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw BackgroundFollower.StartError(
                description: "cannot start reading the logs: \(errnoMessage(errno))")
        }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    /// Makes the read end readable. A full pipe is as readable as one byte, so a failed write is no loss.
    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    func clear() {
        var bytes: UInt64 = 0
        while read(readEnd, &bytes, MemoryLayout<UInt64>.size) > 0 {}
    }

    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}

extension FollowEvent {
    /// What an event weighs in the reader's queue.
    fileprivate var sampleCount: Int {
        switch self {
        case .samples(_, let samples, _, _), .sourceSamples(_, _, let samples, _, _): samples.count
        default: 0
        }
    }
}

private func errnoMessage(_ code: Int32) -> String { String(cString: strerror(code)) }
