import Foundation
import KltopKit
import LogFollowing
import RunLogs
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The dashboard's reader thread: it must report what reading on one thread reports, keep its queue within
/// its bound when the consumer is slow, and stop at once whatever it is doing.
@Suite struct BackgroundFollowerTests {
    /// What a consumer saw, per run: enough to tell a lost, repeated or reordered step.
    struct Transcript: Equatable, CustomStringConvertible {
        /// "name at path", by run number.
        var runs: [String] = []
        var samples: [[MetricSample]] = []
        var lastStatistics: [ReadStatistics] = []
        var eventsBeforeTheirRun = 0

        var sampleCount: Int { samples.reduce(0) { $0 + $1.count } }

        mutating func record(_ event: FollowEvent) {
            switch event {
            case .runAppeared(let run, let name, let path):
                if run != runs.count { eventsBeforeTheirRun += 1 }
                runs.append("\(name) at \(path)")
                samples.append([])
                lastStatistics.append(ReadStatistics())
            case .samples(let run, let new, _, let statistics):
                guard run < runs.count else {
                    eventsBeforeTheirRun += 1
                    return
                }
                samples[run] += new
                lastStatistics[run] = statistics
            case .runNamed(let run, let name, let path):
                guard run < runs.count else {
                    eventsBeforeTheirRun += 1
                    return
                }
                runs[run] = "\(name) at \(path)"
            case .notice, .runEnded, .recordedAlerts, .sourceSamples, .sourcesListed, .logWithoutKL,
                .sourceDisagrees:
                break
            }
        }

        var description: String {
            zip(runs, samples).map { "\($0): \($1.count) samples" }.joined(separator: "; ")
        }
    }

    static func readToEnd(_ arguments: [String], options: FollowOptions) -> Transcript {
        var transcript = Transcript()
        SourceDriver.readToEnd(arguments, options: options) { transcript.record($0) }
        return transcript
    }

    /// Takes events as the dashboard does (waiting on the ready descriptor) until `done` holds or
    /// `timeout` seconds pass; `eachTake` sees how many samples each take brought.
    static func consume(
        _ follower: BackgroundFollower, into transcript: inout Transcript, timeout: Double = 60,
        eachTake: (Int) -> Void = { _ in }, until done: (Transcript) -> Bool
    ) {
        let deadline = Date().addingTimeInterval(timeout)
        while !done(transcript) && Date() < deadline {
            _ = waitUntilReadable(follower.readyDescriptor, timeout: 0.5)
            let events = follower.takeWaitingEvents()
            eachTake(events.reduce(0) { $0 + $1.sampleCount })
            for event in events { transcript.record(event) }
        }
    }

    static func waitUntilReadable(_ descriptor: Int32, timeout: Double) -> Bool {
        var polled = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&polled, 1, Int32(timeout * 1000)) == 1
    }

    static func jsonLines(_ steps: Range<Int>) -> String {
        steps.map { "{\"step\": \($0), \"kl\": \(Double($0 % 97) / 1000), \"loss\": 0.5}\n" }.joined()
    }

    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Small rounds, so that a few thousand lines take many of them and the files' events interleave.
    static let smallRounds = FollowOptions(bytesPerRound: 4096)

    @Test func severalFilesArriveCompleteAndInOrder() throws {
        let root = try TemporaryDirectory.make("kltop-background")
        let folder = root.appendingPathComponent("runs")
        try Self.write(Self.jsonLines(0..<3000), to: folder.appendingPathComponent("a.jsonl"))
        try Self.write(
            "step,kl,reward\n" + (0..<2000).map { "\($0),\(Double($0) / 5000),1\n" }.joined(),
            to: folder.appendingPathComponent("b.csv"))
        try Self.write(Self.jsonLines(500..<2500), to: folder.appendingPathComponent("c/metrics.jsonl"))
        let single = root.appendingPathComponent("single.jsonl")
        try Self.write(Self.jsonLines(0..<1500), to: single)
        let arguments = [folder.path, single.path]

        let expected = Self.readToEnd(arguments, options: Self.smallRounds)
        #expect(expected.runs.count == 4 && expected.sampleCount == 8500, "\(expected)")
        let follower = try BackgroundFollower(arguments: arguments, options: Self.smallRounds)
        var seen = Transcript()
        Self.consume(follower, into: &seen) { $0.sampleCount >= expected.sampleCount }
        follower.stop()
        #expect(seen == expected)
    }

    /// The writer appends in pieces that cut lines anywhere while the reader follows.
    @Test func aFileWrittenWhileReadingArrivesWhole() throws {
        let root = try TemporaryDirectory.make("kltop-background")
        let log = root.appendingPathComponent("live.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let text = Array(Self.jsonLines(0..<20_000).utf8)
        let follower = try BackgroundFollower(arguments: [log.path], options: Self.smallRounds)
        let writer = Thread {
            var generator = SeededGenerator(seed: 7)
            guard let handle = FileHandle(forWritingAtPath: log.path) else { return }
            var offset = 0
            while offset < text.count {
                let end = min(text.count, offset + Int.random(in: 1...9000, using: &generator))
                handle.write(Data(text[offset..<end]))
                offset = end
                if generator.next() % 4 == 0 { usleep(1000) }
            }
            try? handle.close()
        }
        writer.start()
        var seen = Transcript()
        Self.consume(follower, into: &seen) { $0.sampleCount >= 20_000 }
        follower.stop()
        let expected = Self.readToEnd([log.path], options: Self.smallRounds)
        #expect(expected.sampleCount == 20_000)
        #expect(seen.samples == expected.samples)
        #expect(seen.runs == expected.runs && seen.eventsBeforeTheirRun == 0)
        #expect(seen.lastStatistics.first?.badLines == 0)
    }

    /// A consumer slower than the reader: each take holds no more samples than the bound (the queue only
    /// grows between takes, so what a take finds is the most it ever held), and still everything arrives.
    @Test func theQueueStaysWithinItsBoundWhenTheConsumerIsSlow() throws {
        let root = try TemporaryDirectory.make("kltop-background")
        let log = root.appendingPathComponent("fast.jsonl")
        try Self.write(Self.jsonLines(0..<30_000), to: log)
        let bound = 2000
        // Rounds of 8 KiB: some 200 samples an event, well under the bound.
        let follower = try BackgroundFollower(
            arguments: [log.path], options: FollowOptions(bytesPerRound: 8 << 10),
            maximumWaitingSamples: bound)
        // Long enough for the reader to fill the queue and wait, even in a debug or sanitized build.
        usleep(1_000_000)
        var seen = Transcript()
        var largestTake = 0
        Self.consume(
            follower, into: &seen,
            eachTake: { taken in
                largestTake = max(largestTake, taken)
                usleep(10_000)
            }, until: { $0.sampleCount >= 30_000 })
        follower.stop()
        #expect(largestTake <= bound)
        #expect(largestTake > bound / 2, "the reader never ran ahead of the consumer: nothing was tested")
        #expect(seen.samples.first?.map(\.step) == (0..<30_000).map(Int64.init))
    }

    /// A regression: the mark where the past ends once left the descriptor readable for good when the
    /// consumer took events with takeWaitingEvents(), so every later wait returned at once with nothing.
    @Test func takingEventsAlsoTakesTheMarkOfThePast() throws {
        let root = try TemporaryDirectory.make("kltop-background")
        let log = root.appendingPathComponent("quiet.jsonl")
        try Self.write(Self.jsonLines(0..<3), to: log)
        let follower = try BackgroundFollower(arguments: [log.path], options: FollowOptions())
        defer { follower.stop() }
        // Taken as soon as they wait, so that the mark usually comes after the last take.
        var seen = Transcript()
        Self.consume(follower, into: &seen) { $0.sampleCount >= 3 }
        usleep(300_000)
        if Self.waitUntilReadable(follower.readyDescriptor, timeout: 0) {
            #expect(follower.takeWaitingEvents().isEmpty)
        }
        #expect(seen.sampleCount == 3)
        #expect(!Self.waitUntilReadable(follower.readyDescriptor, timeout: 0))
    }

    @Test func theReadyDescriptorIsReadableExactlyWhileEventsWait() throws {
        let root = try TemporaryDirectory.make("kltop-background")
        let log = root.appendingPathComponent("quiet.jsonl")
        try Self.write(Self.jsonLines(0..<10), to: log)
        let follower = try BackgroundFollower(arguments: [log.path], options: FollowOptions())
        var seen = Transcript()
        // Until the end of the logs' past has been marked too: it also makes the descriptor readable.
        var pastMarked = false
        let deadline = Date().addingTimeInterval(60)
        while !(pastMarked && seen.sampleCount >= 10) && Date() < deadline {
            _ = Self.waitUntilReadable(follower.readyDescriptor, timeout: 0.5)
            let (events, pastEndsAt) = follower.takeWaiting()
            if pastEndsAt != nil { pastMarked = true }
            for event in events { seen.record(event) }
        }
        usleep(200_000)  // a few rounds with nothing new
        #expect(!Self.waitUntilReadable(follower.readyDescriptor, timeout: 0))
        #expect(follower.takeWaitingEvents().isEmpty)

        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(Self.jsonLines(10..<11).utf8))
        try handle.close()
        // Within the poll interval (1 s) at worst, without inotify.
        #expect(Self.waitUntilReadable(follower.readyDescriptor, timeout: 10))
        for event in follower.takeWaitingEvents() { seen.record(event) }
        #expect(seen.samples.first?.last?.step == 10)
        #expect(!Self.waitUntilReadable(follower.readyDescriptor, timeout: 0))
        follower.stop()
    }

    enum Busy: CaseIterable {
        /// The queue is full and nobody takes: the reader waits for room.
        case waitingForRoom
        /// Nothing to read, and the next check is far off (polling every 1000 s).
        case waitingForTheLogs
        /// A consumer takes as fast as it can while the reader reads a long log.
        case reading
    }

    /// stop() returns within a round, whatever the reader is doing; it is run on a thread of its own so
    /// that a stop that hangs fails the test rather than hanging it.
    @Test(arguments: Busy.allCases) func stoppingReturnsPromptly(busy: Busy) throws {
        let root = try TemporaryDirectory.make("kltop-background")
        let log = root.appendingPathComponent("long.jsonl")
        try Self.write(Self.jsonLines(0..<(busy == .waitingForTheLogs ? 10 : 200_000)), to: log)
        let options = FollowOptions(pollInterval: 1000, forcePolling: true, quietPeriod: 1000)
        let follower = try BackgroundFollower(
            arguments: [log.path], options: options, maximumWaitingSamples: 1000)
        var seen = Transcript()
        switch busy {
        case .waitingForRoom:
            #expect(Self.waitUntilReadable(follower.readyDescriptor, timeout: 10))
            usleep(100_000)
        case .waitingForTheLogs:
            Self.consume(follower, into: &seen) { $0.sampleCount >= 10 }
            usleep(100_000)
        case .reading:
            Self.consume(follower, into: &seen) { $0.sampleCount >= 10_000 }
        }
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            follower.stop()
            stopped.signal()
        }.start()
        #expect(stopped.wait(timeout: .now() + 30) == .success, "stop() did not return (busy: \(busy))")
    }
}

extension FollowEvent {
    var sampleCount: Int {
        if case .samples(_, let samples, _, _) = self { return samples.count }
        return 0
    }
}
