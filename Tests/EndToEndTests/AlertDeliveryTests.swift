import Foundation
import TestSupport
import Testing

/// Alerts delivered by `check --follow` to local stand-ins for Slack, Discord, a webhook and an SMTP relay,
/// and to `--on-alert`: each once per channel, retried when an endpoint fails, never sent twice across a
/// restart, the past of a run summed up once, no secret ever printed.
@Suite(.serialized) struct AlertDeliveryTests {
    /// The repository's exploding GRPO run: its alerts (2 warnings, 2 criticals) come at steps 180, 182,
    /// 334 and 335.
    static let example = try! String(
        contentsOf: Fixtures.packageRoot.appendingPathComponent("Examples/grpo-explosion.jsonl"),
        encoding: .utf8
    )
    .split(separator: "\n").map { String($0) + "\n" }
    static let alertSteps = [180, 182, 334, 335]
    static let secret = "T0KEN-s3cret"
    static let password = "pa55-w0rd-x"

    /// A folder with an rlwatch.yaml sending to every channel, an empty log, and a state folder for the ledger.
    struct Setup {
        var folder: URL
        var log: URL
        var http: HTTPStandIn
        var smtp: SMTPStandIn

        init(http: HTTPStandIn? = nil, webhookURL: String? = nil) throws {
            folder = try TemporaryDirectory.make("kltop-alerts")
            log = folder.appendingPathComponent("grpo.jsonl")
            try Data().write(to: log)
            self.http = try http ?? HTTPStandIn()
            smtp = try SMTPStandIn()
            let base = self.http.url
            let config = """
                alerts:
                  slack:
                    enabled: true
                    webhook_url: "\(base)/slack/\(secret)"
                    mention_users: ["U123"]
                  discord:
                    webhook_url: "\(base)/discord/\(secret)"
                    mention_role_ids: [987]
                  webhook:
                    url: "\(webhookURL ?? base + "/hook/" + secret)"
                    headers: {Authorization: "Bearer \(secret)"}
                    template_json: '{"text": "${severity_upper} ${run_id} at ${step}: ${message}", "m": ${metrics_json}}'
                  email:
                    smtp_host: 127.0.0.1
                    smtp_port: \(smtp.port)
                    smtp_user: watcher
                    smtp_password: "\(password)"
                    from_addr: kltop@example.org
                    to_addrs: [oncall@example.org]
                """
            try config.write(
                to: folder.appendingPathComponent("rlwatch.yaml"), atomically: true, encoding: .utf8)
        }

        var environment: [String: String] {
            var environment = ProcessInfo.processInfo.environment
            environment["XDG_STATE_HOME"] = folder.appendingPathComponent("state").path
            for key in environment.keys where key.hasPrefix("RLWATCH_") { environment[key] = nil }
            return environment
        }

        func start(_ extra: [String] = []) throws -> LiveProcess {
            try LiveProcess(
                kltop: ["check", "--follow", "--format", "jsonl"] + extra + [log.lastPathComponent],
                in: folder,
                environment: environment)
        }

        func append(_ lines: ArraySlice<String>) throws {
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            handle.write(Data(lines.joined().utf8))
            try handle.close()
        }

        /// Writes the log's first lines (no alert among them) and waits until kltop has read them: what is
        /// appended after that is new, not the run's past, however slowly kltop started.
        func waitUntilReading(_ kltop: LiveProcess) throws {
            try append(AlertDeliveryTests.example[..<10])
            #expect(kltop.waitUntil(timeout: 30) { _ in kltop.standardError.contains("reading KL from") })
        }

        func requests(_ channel: String) -> [HTTPStandIn.Request] {
            http.requests.filter { $0.path.hasPrefix("/\(channel)/") }
        }
    }

    /// The steps of the alerts `check --format jsonl` printed.
    static func printedSteps(_ kltop: LiveProcess) -> [Int] {
        kltop.outputLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["step"] as? Int
        }
    }

    static func steps(_ requests: [HTTPStandIn.Request], in key: (HTTPStandIn.Request) -> String) -> [Int] {
        requests.compactMap { request in
            let text = key(request)
            guard let range = text.range(of: #"(at|Step:\*?) (\d+)"#, options: .regularExpression) else {
                return nil
            }
            return Int(text[range].split(separator: " ").last!)
        }
    }

    @Test func eachDeliveredAlertReachesEveryChannelOnceWithWhatTheBannerSays() throws {
        let setup = try Setup()
        let kltop = try setup.start([
            "--on-alert", #"cat >> on-alert.jsonl; echo "ran for $KLTOP_RUN $KLTOP_STEP $KLTOP_SEVERITY""#,
        ])
        defer { kltop.interrupt() }
        try setup.waitUntilReading(kltop)
        try setup.append(Self.example[10...])
        #expect(kltop.waitUntil(timeout: 20) { _ in Self.printedSteps(kltop) == Self.alertSteps })
        setup.http.waitForRequests(12)
        setup.smtp.waitForMessages(4)
        Thread.sleep(forTimeInterval: 0.5)

        let slack = setup.requests("slack")
        #expect(slack.count == 4)
        let slackBodies = slack.compactMap(\.json)
        #expect(slackBodies.count == 4, "every Slack body is JSON")
        for (body, step) in zip(slack.map(\.body), Self.alertSteps) {
            #expect(body.contains("*Step:* \(step)") && body.contains("`grpo`"))
            #expect(body.contains("Recommended action"))
            let critical = step == 180 || step == 335
            #expect(body.contains("<@U123>") == critical, "mentions on critical only: \(step)")
            #expect(
                body.contains(critical ? "rlwatch CRITICAL: kl_explosion" : "rlwatch WARNING: kl_explosion"))
        }
        #expect(slack[0].body.contains("Exceeds 4.5σ critical threshold"), "rlwatch's message")

        let discord = setup.requests("discord")
        #expect(discord.count == 4 && discord.allSatisfy { $0.json != nil })
        #expect(discord.map { $0.body.contains("<@&987>") } == [true, false, false, true])
        #expect(discord[0].json?["username"] as? String == "rlwatch")

        let hooks = setup.requests("hook")
        #expect(hooks.count == 4)
        #expect(hooks.allSatisfy { $0.headers["authorization"] == "Bearer \(Self.secret)" })
        let texts = hooks.compactMap { $0.json?["text"] as? String }
        #expect(texts.first?.hasPrefix("CRITICAL grpo at 180: KL divergence explosion") == true, "\(texts)")
        #expect(hooks.compactMap { ($0.json?["m"] as? [String: Any])?["z_score"] as? Double }.count == 4)

        let mail = setup.smtp.messages
        #expect(mail.count == 4, "\(kltop.standardError)")
        #expect(mail.allSatisfy { $0.from == "kltop@example.org" && $0.to == ["oncall@example.org"] })
        #expect(mail.allSatisfy { $0.login == "watcher" })
        // rlwatch's subject has an em dash: an RFC 2047 encoded word.
        let subject = mail.first?.data.split(separator: "\r\n").first { $0.hasPrefix("Subject: =?UTF-8?B?") }
        let decoded = subject.flatMap { Data(base64Encoded: String($0.dropFirst(19).dropLast(2))) }
        #expect(
            decoded.map { String(decoding: $0, as: UTF8.self) }
                == "[rlwatch CRITICAL] kl_explosion — Run grpo Step 180")
        #expect(mail.first?.data.contains("rlwatch CRITICAL: kl_explosion") == true)
        #expect(mail.first?.data.contains("Step: 180") == true)

        let command = try String(
            contentsOf: setup.folder.appendingPathComponent("on-alert.jsonl"), encoding: .utf8)
        let objects = command.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.compactMap { $0["step"] as? Int } == Self.alertSteps)
        #expect(objects.first?["severity"] as? String == "critical")

        kltop.interrupt()
        let everything = kltop.outputLines.joined() + kltop.standardError
        #expect(kltop.standardError.contains("kltop: --on-alert: ran for grpo 335 critical"))
        #expect(
            kltop.standardError.contains("delivering alerts to slack, discord, webhook, email, --on-alert"))
        #expect(!everything.contains(Self.secret) && !everything.contains(Self.password))
    }

    /// The ledger: a restarted watcher re-reads the log, sends nothing it sent before, and sends once what
    /// was raised while it was down.
    @Test func aRestartSendsNothingTwiceAndWhatCameWhileDownOnce() throws {
        let setup = try Setup()
        var kltop = try setup.start()
        try setup.waitUntilReading(kltop)
        try setup.append(Self.example[10..<200])  // alerts at 180 and 182
        setup.http.waitForRequests(6)
        setup.smtp.waitForMessages(2)
        Thread.sleep(forTimeInterval: 0.5)
        kltop.interrupt()
        #expect(setup.requests("slack").count == 2)

        try setup.append(Self.example[200...])  // 334 and 335, while nobody watches
        kltop = try setup.start()
        defer { kltop.interrupt() }
        setup.http.waitForRequests(12)
        setup.smtp.waitForMessages(4)
        Thread.sleep(forTimeInterval: 1)
        for channel in ["slack", "discord", "hook"] {
            #expect(setup.requests(channel).count == 4, "\(channel): 2 before, 2 raised while down")
        }
        #expect(Self.steps(setup.requests("slack"), in: \.body) == Self.alertSteps)
        #expect(setup.smtp.messages.count == 4)

        kltop.interrupt()
        kltop = try setup.start()
        Thread.sleep(forTimeInterval: 2)
        kltop.interrupt()
        #expect(setup.http.requests.count == 12 && setup.smtp.messages.count == 4, "nothing sent again")
    }

    /// A run with a history and no ledger: one summary per channel, then only what is new.
    @Test func aRunsPastIsSummedUpOnceThenOnlyNewAlertsGo() throws {
        let setup = try Setup()
        try setup.append(Self.example[..<300])  // 180 and 182 in the past
        let kltop = try setup.start()
        defer { kltop.interrupt() }
        setup.http.waitForRequests(3)
        Thread.sleep(forTimeInterval: 0.5)
        let slack = setup.requests("slack")
        #expect(slack.count == 1)
        #expect(slack.first?.body.contains("1 warning and 1 critical (the last at step 182)") == true)
        try setup.append(Self.example[300...])
        setup.http.waitForRequests(9)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(Self.steps(Array(setup.requests("slack").dropFirst()), in: \.body) == [334, 335])
    }

    @Test func anEndpointThatFailsItsFirstRequestsGetsTheAlertAfterRetries() throws {
        // Slack's endpoint fails twice (500, then 429 with Retry-After) before it takes the first alert.
        let http = try HTTPStandIn(failingWith: [500, 429])
        let setup = try Setup(http: http)
        let kltop = try setup.start()
        defer { kltop.interrupt() }
        try setup.waitUntilReading(kltop)
        try setup.append(Self.example[10..<181])  // one alert, at 180
        #expect(
            setup.http.wait(timeout: 30) {
                setup.requests("slack").count + setup.requests("discord").count + setup.requests("hook").count
                    >= 5
            })
        Thread.sleep(forTimeInterval: 0.5)
        let all = setup.http.requests
        #expect(all.count == 5, "3 channels, 2 failed attempts: \(all.map(\.path))")
        #expect(Set(all.map { String($0.path.split(separator: "/").first ?? "") }).count == 3)
        kltop.interrupt()
        #expect(
            kltop.standardError.contains("not delivered yet (HTTP 500); trying again"),
            "\(kltop.standardError)")
        #expect(!kltop.standardError.contains(Self.secret))
    }

    /// A webhook nobody listens on: said at once (naming the channel, not the URL), and the follow goes on.
    @Test func anUnreachableEndpointIsReportedWithoutStallingTheFollow() throws {
        let closed = try HTTPStandIn()
        let url = closed.url + "/hook/" + Self.secret
        closed.stop()
        let setup = try Setup(webhookURL: url)
        let kltop = try setup.start()
        defer { kltop.interrupt() }
        try setup.waitUntilReading(kltop)
        try setup.append(Self.example[10..<181])
        #expect(
            kltop.waitUntil(timeout: 20) { _ in kltop.standardError.contains("kltop: webhook: grpo, step 180")
            })
        try setup.append(Self.example[181...])
        #expect(kltop.waitUntil(timeout: 20) { _ in Self.printedSteps(kltop) == Self.alertSteps })
        setup.http.waitForRequests(6)
        #expect(setup.requests("slack").count == 4 || setup.http.waitForRequests(8).count >= 8)
        kltop.interrupt()
        #expect(kltop.standardError.contains("not delivered yet (Couldn't connect to server)"))
        #expect(!kltop.standardError.contains(Self.secret))
    }

    /// The dashboard delivers what new samples raise; a tuning key re-runs the detector on the history and
    /// changes the alerts on screen, but sends nothing.
    @Test func theDashboardDeliversNewAlertsButNotThoseOfATuningKey() throws {
        let http = try HTTPStandIn()
        let tmux = try TmuxSession(
            width: 100, height: 30,
            environment: [
                "XDG_STATE_HOME": "state", "RLWATCH_SLACK_WEBHOOK_URL": "\(http.url)/slack/\(Self.secret)",
            ])
        let log = tmux.directory.appendingPathComponent("grpo.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        try tmux.run(
            "'\(Kltop.executable.path)' --on-alert 'cat >> on-alert.jsonl; echo \"ran for $KLTOP_STEP\"' grpo.jsonl"
        )
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("grpo") })
        // The run shows before its file's first read: what is there at that read is its past.
        Thread.sleep(forTimeInterval: 1)
        let handle = try FileHandle(forWritingTo: log)
        handle.write(Data(Self.example.joined().utf8))
        try handle.close()
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("step 399") }, "\(tmux.screen())")
        let requests = http.waitForRequests(4)
        #expect(Self.steps(requests, in: \.body) == Self.alertSteps)
        try tmux.press("-", "-", "-")  // σ down: many more alerts on screen
        Thread.sleep(forTimeInterval: 1.5)
        #expect(http.requests.count == 4, "a tuning key sends nothing")
        try tmux.press("?")
        #expect(
            tmux.waitForScreen(timeout: 10) {
                $0.joined().contains("alerts are also sent to: slack, --on-alert")
            },
            "\(tmux.screen())")
        // The command's output is kept for the alert history screen, below the alerts.
        try tmux.press("?", "h", "End")
        #expect(
            tmux.waitForScreen(timeout: 10) { $0.joined().contains("--on-alert: ran for 335") },
            "\(tmux.screen())")
        try tmux.press("q")
        Thread.sleep(forTimeInterval: 0.5)
        let command =
            (try? String(contentsOf: tmux.directory.appendingPathComponent("on-alert.jsonl"), encoding: .utf8))
            ?? ""
        #expect(command.split(separator: "\n").count == 4)
    }

    @Test func onAlertNeedsFollowAndABadTemplateIsRefusedAtStart() throws {
        let setup = try Setup()
        let once = try Kltop.run(["check", "--on-alert", "true", setup.log.path], in: setup.folder)
        #expect(once.status == 3 && once.standardError.contains("--on-alert needs --follow"))
        try
            "alerts:\n  webhook:\n    url: \"http://127.0.0.1:9/\(Self.secret)\"\n    template_json: '{\"a\": ${step'\n"
            .write(to: setup.folder.appendingPathComponent("rlwatch.yaml"), atomically: true, encoding: .utf8)
        let refused = try Kltop.run(
            ["check", "--follow", setup.log.path], in: setup.folder, environment: setup.environment)
        #expect(refused.status == 3)
        #expect(refused.standardError.contains("does not make JSON"), "\(refused.standardError)")
        #expect(!refused.standardError.contains(Self.secret))
    }
}
