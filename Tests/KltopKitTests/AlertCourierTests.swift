import Foundation
import KLDetector
import Testing

@testable import KltopKit

/// The delivery thread with a transport the test scripts: retries, giving up, the ledger and the summary.
@Suite struct AlertCourierTests {
    final class Script: @unchecked Sendable {
        let lock = NSLock()
        var outcomes: [SendOutcome]
        var sent: [AlertMessage] = []
        init(_ outcomes: [SendOutcome]) { self.outcomes = outcomes }

        func send(_ notification: AlertMessage) -> SendOutcome {
            lock.withLock {
                sent.append(notification)
                return outcomes.isEmpty ? .delivered : outcomes.removeFirst()
            }
        }
        var count: Int { lock.withLock { sent.count } }
    }

    static let run = RunIdentity(name: "ppo", source: "/runs/ppo.jsonl")

    static func report(step: Int64, _ severity: Severity = .critical) -> AlertReport {
        AlertReport(
            run: run, metric: "kl",
            alert: Alert(
                step: step, severity: severity, klDivergence: 1, rollingMean: 0.1, rollingStd: 0.01,
                zScore: 90,
                clipRegion: 0.2), sigmaMultiplier: 3)
    }

    static func courier(_ script: Script, ledger: String?, giveUpAfter: Double = 600) throws -> AlertCourier {
        try AlertCourier(
            channels: [.command("true")], ledgerDirectory: ledger, giveUpAfter: giveUpAfter,
            transport: { _, notification, _ in script.send(notification) })
    }

    static func waitFor(_ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(10)
        while !condition() && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    @Test func anEndpointThatKeepsFailingIsGivenUpOnAndReported() throws {
        let script = Script(Array(repeating: .retry(reason: "HTTP 503", after: nil), count: 10))
        let courier = try Self.courier(script, ledger: nil, giveUpAfter: 2.5)
        courier.caughtUp()
        courier.send(Self.report(step: 7))
        var reports: [AlertCourier.Report] = []
        Self.waitFor {
            reports += courier.takeReports()
            return reports.contains { $0.kind == .undelivered }
        }
        courier.finish(within: 0)
        // Tried at once and after 1 s; waiting 2 s more would pass the 2.5 s limit.
        #expect(script.count == 2)
        #expect(reports.map(\.kind) == [.retrying, .undelivered])
        #expect(
            reports.last?.line.contains("ppo, step 7 (critical): not delivered: HTTP 503; gave up after")
                == true)
    }

    @Test func aFailureRetryingCannotMendIsReportedAtOnce() throws {
        let script = Script([.failed(reason: "HTTP 404")])
        let courier = try Self.courier(script, ledger: nil)
        courier.caughtUp()
        courier.send(Self.report(step: 3, .warning))
        courier.finish(within: 5)
        let reports = courier.takeReports()
        #expect(script.count == 1)
        #expect(reports.map(\.kind) == [.undelivered] && reports[0].message == "not delivered: HTTP 404")
    }

    @Test func theLedgerKeepsARestartFromSendingTwiceAndThePastIsSummedUpOnce() throws {
        let ledger = FileManager.default.temporaryDirectory.appendingPathComponent("kltop-ledger-\(UUID())")
            .path
        let first = Script([])
        var courier = try Self.courier(first, ledger: ledger)
        courier.seen(Self.run)
        courier.send(Self.report(step: 10, .warning))
        courier.send(Self.report(step: 20))
        courier.caughtUp()
        courier.send(Self.report(step: 30))
        courier.finish(within: 5)
        guard case .summary(let summary)? = first.sent.first else {
            Issue.record("no summary first: \(first.sent)")
            return
        }
        #expect(
            summary.warnings == 1 && summary.criticals == 1 && summary.lastStep == 20
                && summary.worst.step == 20)
        #expect(first.sent.count == 2 && first.sent.last?.step == 30)

        let second = Script([])
        courier = try Self.courier(second, ledger: ledger)
        courier.seen(Self.run)
        for step: Int64 in [10, 20, 30, 40] {
            courier.send(Self.report(step: step, step == 10 ? .warning : .critical))
        }
        courier.caughtUp()
        courier.finish(within: 5)
        #expect(second.sent.map(\.step) == [40], "only what came while kltop was down")
    }

    /// A stale run goes to the channels once per silence, also across a restart; a warning at the same
    /// step is another thing and still goes.
    @Test func aStaleNoticeIsSentOnceAndKeptApartFromAlerts() throws {
        let ledger = FileManager.default.temporaryDirectory.appendingPathComponent("kltop-ledger-\(UUID())")
            .path
        let notice = StaleRunNotice(
            run: Self.run, metric: "kl", lastStep: 30, silence: 600, usualInterval: 20)
        let first = Script([])
        var courier = try Self.courier(first, ledger: ledger)
        courier.seen(Self.run)
        courier.caughtUp()
        courier.send(notice)
        courier.send(notice)
        courier.send(Self.report(step: 30, .warning))
        courier.finish(within: 5)
        #expect(first.sent.count == 2, "\(first.sent)")
        guard case .stale(let sent)? = first.sent.first else {
            Issue.record("no stale notice: \(first.sent)")
            return
        }
        #expect(sent.message == "No new step for 10 min (it logged about every 20 s); the last was step 30.")
        let second = Script([])
        courier = try Self.courier(second, ledger: ledger)
        courier.seen(Self.run)
        courier.caughtUp()
        courier.send(notice)
        courier.finish(within: 5)
        #expect(second.sent.isEmpty, "the ledger remembers the notice")
        // What each channel says of it: no rlwatch detector, kltop's words.
        let command = AlertCommand.json(.stale(notice))
        #expect(command.contains("\"stale\": true") && command.contains("\"step\": 30"))
        let fields = AlertChannel.Webhook.fields(.stale(notice), timestamp: "t")
        #expect(fields["detector"] == "stale_run" && fields["severity"] == "warning")
    }
}
