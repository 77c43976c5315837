import KltopKit
import LogFollowing
import RunLogs

/// The stream another machine's kltop sends over ssh (`export --with-notes`), line by line, as
/// ``RemoteStream`` reads it.
///
/// Promises: no line crashes or hangs the decoder (nesting is bounded); a line it takes, written again by
/// kltop's own writer, reads back as the same thing (steps bit for bit): what one side writes, the other
/// reads as it was.
enum RemoteStreamHarness {
    static func run(_ input: [UInt8]) throws(InvariantViolation) {
        for line in input.split(separator: 0x0A) {
            let text = Substring(decoding: line, as: UTF8.self)
            guard let decoded = RemoteStream.decode(text) else { continue }
            guard let written = write(decoded) else { continue }
            let again = RemoteStream.decode(Substring(written))
            try require(same(again, decoded), "\(written) did not read back as \(decoded)")
        }
    }

    private static func write(_ line: RemoteStream.Line) -> String? {
        switch line {
        case .sample(let run, let sample): Exporter.line(run: run, sample: sample, format: .jsonl)
        case .run(let name, let path): StreamNotes.run(name: name, path: path)
        case .renamed(let run, let name): StreamNotes.renamed(run: run, to: name)
        case .read(let run, let key, let statistics): StreamNotes.read(run: run, metricKey: key, statistics)
        case .notice(let run, let notice): StreamNotes.notice(run: run, notice)
        case .withoutKL(let path, let statistics): StreamNotes.withoutKL(path: path, statistics)
        case .ended(let run): StreamNotes.ended(run: run)
        case .caughtUp: StreamNotes.caughtUp
        case .unknown: nil
        }
    }

    /// Equal, with NaN steps equal to NaN (the values' bits are what count).
    private static func same(_ a: RemoteStream.Line?, _ b: RemoteStream.Line) -> Bool {
        if case .sample(let runA, let sampleA)? = a, case .sample(let runB, let sampleB) = b {
            return runA == runB && sampleA.step == sampleB.step
                && (sampleA.value.bitPattern == sampleB.value.bitPattern
                    || (sampleA.value.isNaN && sampleB.value.isNaN))
        }
        return a == b
    }
}
