import LogFollowing
import RunLogs
import Testing

@testable import KltopKit

/// What `export --with-notes` writes is what another machine's kltop reads back: every note, and every
/// value bit for bit.
@Suite struct StreamNotesTests {
    @Test func everyNoteReadsBackAsWritten() {
        var statistics = ReadStatistics()
        statistics.records = 12
        statistics.samples = 10
        statistics.missingValues = 1
        statistics.badLines = 2
        statistics.firstBadLines = [
            BadLine(lineNumber: 3, reason: "not JSON: \"{oops\""), BadLine(lineNumber: 9, reason: "cut"),
        ]
        statistics.keysSeen = ["loss", "reward/mean"]
        statistics.runFinished = true
        statistics.bytes = 4096
        statistics.ignoredLines = 4
        statistics.heldAtEnd = 37
        #expect(
            RemoteStream.decode(Substring(StreamNotes.run(name: "grpo \"a\"", path: "runs/grpo a")))
                == .run(name: "grpo \"a\"", path: "runs/grpo a"))
        #expect(
            RemoteStream.decode(Substring(StreamNotes.renamed(run: "abc123", to: "qwen-7b ✨")))
                == .renamed(run: "abc123", name: "qwen-7b ✨"))
        #expect(
            RemoteStream.decode(Substring(StreamNotes.read(run: "a", metricKey: "kl", statistics)))
                == .read(run: "a", metricKey: "kl", statistics))
        #expect(
            RemoteStream.decode(Substring(StreamNotes.read(run: "a", metricKey: nil, ReadStatistics())))
                == .read(run: "a", metricKey: nil, ReadStatistics()))
        let notice = Notice(.permissionDenied, path: "runs/x.jsonl", "permission denied\u{1B}[2J")
        #expect(
            RemoteStream.decode(Substring(StreamNotes.notice(run: "a", notice))) == .notice(run: "a", notice))
        #expect(
            RemoteStream.decode(Substring(StreamNotes.notice(run: nil, notice))) == .notice(run: nil, notice))
        #expect(
            RemoteStream.decode(Substring(StreamNotes.withoutKL(path: "runs/eval.log", statistics)))
                == .withoutKL(path: "runs/eval.log", statistics))
        #expect(RemoteStream.decode(Substring(StreamNotes.ended(run: "a"))) == .ended(run: "a"))
        #expect(RemoteStream.decode(Substring(StreamNotes.caughtUp)) == .caughtUp)
        #expect(RemoteStream.decode("{\"note\": \"from a newer kltop\"}") == .unknown)
    }

    @Test func everyNoticeKindHasAWireName() {
        for kind in Notice.Kind.all {
            let notice = Notice(kind, path: "p", "m")
            #expect(
                RemoteStream.decode(Substring(StreamNotes.notice(run: nil, notice)))
                    == .notice(run: nil, notice))
        }
    }

    @Test func stepsReadBackBitForBit() {
        var random = SystemRandomNumberGenerator()
        let specials: [Double] = [
            0, -0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1,
            1e-300,
        ]
        let values = specials + (0..<2000).map { _ in Double(bitPattern: random.next()) }
        for value in values {
            let sample = MetricSample(step: Int64.random(in: Int64.min...Int64.max), value: value)
            let line = Exporter.line(run: "r", sample: sample, format: .jsonl)
            guard case .sample(let run, let back)? = RemoteStream.decode(Substring(line)) else {
                Issue.record("\(line) did not read back")
                continue
            }
            #expect(run == "r" && back.step == sample.step)
            #expect(back.value.isNaN ? value.isNaN : back.value.bitPattern == value.bitPattern, "\(line)")
        }
    }

    @Test func whatIsNotTheStreamIsRefused() {
        for line in [
            "", "{", "not json", "{\"run\": \"a\", \"step\": 1}",
            "{\"run\": \"a\", \"step\": 1.5, \"value\": 1}",
            "[1, 2]", "{\"run\": \"a\", \"step\": 1, \"value\": 1} trailing",
            String(repeating: "[", count: 10_000),
            "{\"note\": \"notice\", \"kind\": \"noSuchKind\", \"path\": \"p\", \"message\": \"m\"}",
            "{\"run\": \"\\ud800\", \"step\": 1, \"value\": 2}",
        ] {
            let decoded = RemoteStream.decode(Substring(line))
            if case .sample(let run, _)? = decoded {
                #expect(run == "\u{FFFD}", "\(line)")
            } else {
                #expect(decoded == nil, "\(line)")
            }
        }
    }
}
