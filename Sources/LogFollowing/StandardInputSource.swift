import RunLogs

#if canImport(Glibc)
    import Glibc
#endif

/// Standard input as a run (`ssh gpu-node tail -F run.jsonl | kltop -`): read as it arrives, finished when
/// the writer closes it.
final class StandardInputSource {
    let run: Int
    let descriptor: Int32
    private let options: FollowOptions
    private var reader: (any SampleReader)?
    private(set) var hasEnded = false
    private var lastActivity: Double
    private var reported = ReadStatistics()
    private var reportedRunName: String?
    private let buffer: UnsafeMutableRawPointer
    private static let bufferSize = 1 << 20

    init(run: Int, options: FollowOptions, now: Double, descriptor: Int32 = STDIN_FILENO) {
        self.run = run
        self.options = options
        self.descriptor = descriptor
        lastActivity = now
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) }
    }

    deinit { buffer.deallocate() }

    /// Reads what has arrived, up to the round's budget; returns true when more is waiting.
    func poll(now: Double, emit: (FollowEvent) -> Void) -> Bool {
        guard !hasEnded else { return false }
        var samples: [MetricSample] = []
        var total = 0
        var ended = false
        while total < options.bytesPerRound {
            let count = read(descriptor, buffer, min(Self.bufferSize, options.bytesPerRound - total))
            if count < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { ended = true }
                break
            }
            if count == 0 {
                ended = true
                break
            }
            let bytes = UnsafeRawBufferPointer(start: buffer, count: count)
            if reader == nil { reader = options.makeReader(path: "-") }
            reader!.consume(bytes) { samples.append($0) }
            total += count
        }
        if total > 0 { lastActivity = now }
        if ended {
            reader?.finish { samples.append($0) }
        } else if let held = reader?.heldByteCount, held > 0, now - lastActivity >= options.quietPeriod {
            reader?.takeHeldRecordIfComplete { samples.append($0) }
        }
        if let reader {
            if let name = reader.runName, name != reportedRunName {
                reportedRunName = name
                emit(.runNamed(run: run, name: name, path: "-"))
            }
            let statistics = reader.statistics
            if !samples.isEmpty || statistics.records != reported.records
                || statistics.badLines != reported.badLines
                || statistics.missingValues != reported.missingValues
                || statistics.heldAtEnd != reported.heldAtEnd
            {
                reported = statistics
                emit(.samples(run: run, samples, metricKey: reader.metricKey, statistics: statistics))
            }
        }
        if ended {
            hasEnded = true
            emit(.runEnded(run: run))
        }
        return total >= options.bytesPerRound
    }
}
