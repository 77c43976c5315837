import KLDetector

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where alerts go: the channels of rlwatch.yaml's `alerts` section (with rlwatch's environment variables
/// and defaults applied), and `--on-alert`'s command.
public enum AlertChannel: Sendable, Equatable {
    case slack(Slack)
    case discord(Discord)
    case webhook(Webhook)
    case email(Email)
    case command(String)

    public struct Slack: Sendable, Equatable {
        public var webhookURL: SecretText
        public var channel: String
        public var mentionUsers: [String]
    }

    public struct Discord: Sendable, Equatable {
        public var webhookURL: SecretText
        public var username: String
        public var avatarURL: String
        public var mentionRoleIDs: [String]
    }

    public struct Webhook: Sendable, Equatable {
        public var url: SecretText
        public var method: String
        public var headers: [RlwatchChannelSections.Header]
        /// rlwatch's `string.Template` for the body; empty: its default template.
        public var template: String
        public var timeoutSeconds: Double
    }

    public struct Email: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: SecretText
        public var from: String
        public var to: [String]
    }

    /// The channel's name in reports and in the ledger: never its URL, which is a secret.
    public var name: String {
        switch self {
        case .slack: "slack"
        case .discord: "discord"
        case .webhook: "webhook"
        case .email: "email"
        case .command: "--on-alert"
        }
    }

    /// Sends one notification, waiting for the answer (on the delivery thread). `timestamp` is the time of
    /// sending, as rlwatch's webhook gives it. A command's output goes to `output`, line by line.
    func send(_ notification: AlertMessage, timestamp: String, output: (String) -> Void) -> SendOutcome {
        switch self {
        case .slack(let slack):
            return Curl.http(
                method: "POST", url: slack.webhookURL.value, headers: [],
                body: Array(slack.payload(notification).utf8),
                timeout: 10)
        case .discord(let discord):
            return Curl.http(
                method: "POST", url: discord.webhookURL.value, headers: [],
                body: Array(discord.payload(notification).utf8), timeout: 10)
        case .webhook(let webhook):
            let body: String
            do {
                body = try webhook.body(notification, timestamp: timestamp)
            } catch {
                return .failed(reason: error.description)
            }
            return Curl.http(
                method: webhook.method, url: webhook.url.value,
                headers: webhook.headers.map { ($0.name, $0.value.value) }, body: Array(body.utf8),
                timeout: webhook.timeoutSeconds)
        case .email(let email):
            return Curl.smtp(
                host: email.host, port: email.port, user: email.user, password: email.password.value,
                from: email.from, to: email.to, message: email.message(notification, timestamp: timestamp),
                timeout: 30)
        case .command(let command):
            return AlertCommand.run(command, for: notification, output: output)
        }
    }
}

// MARK: - What each channel says

/// The figures of an alert, as rlwatch formats `metric_values` for Slack and Discord (`%.4f`).
private func formattedMetrics(_ report: AlertReport) -> [(String, String)] {
    report.metricValues.map { ($0.name, AlertReport.format($0.value, "%.4f")) }
}

private func title(_ notification: AlertMessage, emoji: String) -> String {
    switch notification {
    case .alert(let report):
        "\(emoji) rlwatch \(report.alert.severity.rawValue.uppercased()): \(Alert.detector)"
    case .summary(let summary):
        "\(emoji) kltop: \(summary.warnings + summary.criticals) past alerts of \(summary.run.name)"
    case .stale(let notice):
        "\(emoji) kltop: \(notice.run.name) is stale"
    }
}

extension AlertChannel.Slack {
    /// rlwatch's blocks (header, run and step, message, recommended action, figures), a `text` for the
    /// notification itself, and the configured users mentioned on a critical alert.
    func payload(_ notification: AlertMessage) -> String {
        let critical = notification.severity == .critical
        let emoji = critical ? ":rotating_light:" : ":warning:"
        let heading = title(notification, emoji: emoji)
        var blocks: [String] = []
        func section(_ text: String) -> String {
            #"{"type": "section", "text": {"type": "mrkdwn", "text": \#(JSONText.string(text))}}"#
        }
        func fields(_ texts: [String]) -> String {
            let items = texts.prefix(10).map { #"{"type": "mrkdwn", "text": \#(JSONText.string($0))}"# }
            return #"{"type": "section", "fields": [\#(items.joined(separator: ", "))]}"#
        }
        blocks.append(
            #"{"type": "header", "text": {"type": "plain_text", "text": \#(JSONText.string(heading))}}"#)
        let mentions = critical ? mentionUsers.map { "<@\($0)>" }.joined(separator: " ") : ""
        if !mentions.isEmpty { blocks.append(section(mentions)) }
        blocks.append(fields(["*Run:* `\(notification.run.name)`", "*Step:* \(notification.step)"]))
        let text: String
        switch notification {
        case .alert(let report):
            blocks.append(section(report.message))
            blocks.append(section("*Recommended action:* \(report.alert.recommendation)"))
            blocks.append(fields(formattedMetrics(report).map { "`\($0.0)`: \($0.1)" }))
            text = "\(heading) in \(report.run.name) at step \(report.alert.step): \(report.message)"
        case .summary(let summary):
            blocks.append(section(summary.message))
            blocks.append(section("*Recommended action:* \(summary.worst.recommendation)"))
            text = "\(heading): \(summary.message)"
        case .stale(let notice):
            blocks.append(section(notice.message))
            blocks.append(section("*Recommended action:* \(StaleRunNotice.recommendation)"))
            text = "\(heading): \(notice.message)"
        }
        var payload = #"{"text": \#(JSONText.string(mentions.isEmpty ? text : mentions + " " + text)), "#
        if !channel.isEmpty { payload += #""channel": \#(JSONText.string(channel)), "# }
        return payload + #""blocks": [\#(blocks.joined(separator: ", "))]}"#
    }
}

extension AlertChannel.Discord {
    /// rlwatch's embed (red or orange, title, message, run, step, recommended action, figures), the
    /// configured roles mentioned on a critical alert.
    func payload(_ notification: AlertMessage) -> String {
        let critical = notification.severity == .critical
        var fields = [
            #"{"name": "Run", "value": \#(JSONText.string("`\(notification.run.name)`")), "inline": true}"#,
            #"{"name": "Step", "value": "\#(notification.step)", "inline": true}"#,
        ]
        let description: String
        let recommendation: String
        switch notification {
        case .alert(let report):
            description = report.message
            recommendation = report.alert.recommendation
        case .summary(let summary):
            description = summary.message
            recommendation = summary.worst.recommendation
        case .stale(let notice):
            description = notice.message
            recommendation = StaleRunNotice.recommendation
        }
        fields.append(
            #"{"name": "Recommended action", "value": \#(JSONText.string(recommendation)), "inline": false}"#)
        if case .alert(let report) = notification {
            for (name, value) in formattedMetrics(report) {
                fields.append(
                    #"{"name": \#(JSONText.string("`\(name)`")), "value": \#(JSONText.string(value)), "inline": true}"#
                )
            }
        }
        let embed =
            #"{"title": \#(JSONText.string(title(notification, emoji: critical ? "🚨" : "⚠️"))), "#
            + #""description": \#(JSONText.string(description)), "color": \#(critical ? 0xFF0000 : 0xFFA500), "#
            + #""fields": [\#(fields.joined(separator: ", "))]}"#
        var payload = #"{"username": \#(JSONText.string(username)), "#
        if !avatarURL.isEmpty { payload += #""avatar_url": \#(JSONText.string(avatarURL)), "# }
        if critical && !mentionRoleIDs.isEmpty {
            let content = mentionRoleIDs.map { "<@&\($0)>" }.joined(separator: " ")
            payload += #""content": \#(JSONText.string(content)), "#
        }
        return payload + #""embeds": [\#(embed)]}"#
    }
}

/// A webhook template whose result is no JSON, said without the template's text (it may hold a token).
struct TemplateError: Error, CustomStringConvertible {
    var description: String
}

extension AlertChannel.Webhook {
    /// rlwatch's default template.
    static let defaultTemplate = """
        {
          "detector": "${detector}",
          "severity": "${severity}",
          "step": ${step},
          "run_id": "${run_id}",
          "message": "${message}",
          "recommendation": "${recommendation}",
          "metrics": ${metrics_json},
          "timestamp": "${timestamp}"
        }
        """

    /// The body: the template with rlwatch's fields put in (`string.Template.safe_substitute`: unknown
    /// `${names}` are left as written), checked to be JSON, as rlwatch checks it.
    func body(_ notification: AlertMessage, timestamp: String) throws(TemplateError) -> String {
        let fields = Self.fields(notification, timestamp: timestamp)
        let body = Self.substitute(template.isEmpty ? Self.defaultTemplate : template, fields)
        guard JSONCheck.isJSON(body) else {
            throw TemplateError(
                description: "the webhook template (alerts.webhook.template_json) does not make JSON once "
                    + "its fields are put in; see rlwatch's fields in the README")
        }
        return body
    }

    /// rlwatch's fields: text ones JSON-escaped without their quotes (the template quotes them), `step` a
    /// number, `metrics_json` an object.
    static func fields(_ notification: AlertMessage, timestamp: String) -> [String: String] {
        func escaped(_ text: String) -> String { String(JSONText.string(text).dropFirst().dropLast()) }
        let severity = notification.severity.rawValue
        var fields = [
            "detector": Alert.detector, "severity": severity, "severity_upper": severity.uppercased(),
            "step": String(notification.step), "run_id": escaped(notification.run.name),
            "timestamp": timestamp,
        ]
        switch notification {
        case .alert(let report):
            fields["message"] = escaped(report.message)
            fields["recommendation"] = escaped(report.alert.recommendation)
            fields["metrics_json"] =
                "{"
                + report.metricValues.map { "\"\($0.name)\": \(JSONText.number($0.value))" }.joined(
                    separator: ", ")
                + "}"
        case .summary(let summary):
            fields["message"] = escaped(summary.message)
            fields["recommendation"] = escaped(summary.worst.recommendation)
            fields["metrics_json"] =
                "{\"warnings\": \(summary.warnings), \"criticals\": \(summary.criticals), "
                + "\"worst_step\": \(summary.worst.step), \"kl_divergence\": \(JSONText.number(summary.worst.klDivergence)), "
                + "\"z_score\": \(JSONText.number(summary.worst.zScore))}"
        case .stale(let notice):
            fields["detector"] = "stale_run"
            fields["message"] = escaped(notice.message)
            fields["recommendation"] = escaped(StaleRunNotice.recommendation)
            fields["metrics_json"] =
                "{\"silence_seconds\": \(JSONText.number(notice.silence.rounded())), \"usual_interval_seconds\": "
                + "\(notice.usualInterval.map { JSONText.number($0) } ?? "null"), \"last_step\": \(notice.lastStep)}"
        }
        return fields
    }

    /// Python's `string.Template.safe_substitute`: `$$` is `$`, `${name}` and `$name` are replaced when
    /// `name` is a field, anything else is kept as written.
    static func substitute(_ template: String, _ fields: [String: String]) -> String {
        var result = ""
        var rest = Substring(template)
        func isIdentifierStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
        func isIdentifier(_ c: Character) -> Bool { isIdentifierStart(c) || (c.isASCII && c.isNumber) }
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.first == "$" {
                result += "$"
                rest = after.dropFirst()
            } else if after.first == "{", let close = after.firstIndex(of: "}"),
                case let name = String(after[after.index(after: after.startIndex)..<close]),
                let value = fields[name]
            {
                result += value
                rest = after[after.index(after: close)...]
            } else if let first = after.first, isIdentifierStart(first) {
                let name = String(after.prefix(while: isIdentifier))
                if let value = fields[name] {
                    result += value
                } else {
                    result += "$" + name
                }
                rest = after.dropFirst(name.count)
            } else {
                result += "$"
                rest = after
            }
        }
        return result + rest
    }
}

extension AlertChannel.Email {
    /// A plain-text email with rlwatch's subject and body (its text part), lines ending in CRLF.
    func message(_ notification: AlertMessage, timestamp: String) -> [UInt8] {
        let subject: String
        var body: [String]
        switch notification {
        case .alert(let report):
            let severity = report.alert.severity.rawValue.uppercased()
            subject =
                "[rlwatch \(severity)] \(Alert.detector) — Run \(report.run.name) Step \(report.alert.step)"
            body = [
                "rlwatch \(severity): \(Alert.detector)", "", "Run: \(report.run.name)",
                "Step: \(report.alert.step)",
                "", report.message, "", "Recommendation: \(report.alert.recommendation)", "", "Metrics:",
            ]
            body += report.metricValues.map { "  \($0.name): \(AlertReport.format($0.value, "%.4f"))" }
        case .stale(let notice):
            subject = "[kltop] stale — Run \(notice.run.name) Step \(notice.lastStep)"
            body = [
                "Run: \(notice.run.name)", "Last step: \(notice.lastStep)", "", notice.message, "",
                "Recommendation: \(StaleRunNotice.recommendation)",
            ]
        case .summary(let summary):
            subject = "[kltop] \(summary.warnings + summary.criticals) past alerts — Run \(summary.run.name)"
            body = [
                "Run: \(summary.run.name)", "Last alert at step: \(summary.lastStep)", "", summary.message,
                "",
                "Recommendation: \(summary.worst.recommendation)",
            ]
        }
        let headers = [
            "From: \(from)", "To: \(to.joined(separator: ", "))", "Subject: \(Self.encodedHeader(subject))",
            "Date: \(Self.rfc5322Date())", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit", "X-Mailer: kltop",
        ]
        return Array((headers + [""] + body).joined(separator: "\r\n").utf8) + [0x0D, 0x0A]
    }

    /// A header value as RFC 2047 wants it: as it is when ASCII, else one UTF-8 encoded word per line.
    static func encodedHeader(_ text: String) -> String {
        guard !text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) else { return text }
        let clean = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
        return "=?UTF-8?B?" + Base64.encode(clean.utf8) + "?="
    }

    static func rfc5322Date() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        _ = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S +0000", &parts)
        return String(cString: buffer)
    }
}
