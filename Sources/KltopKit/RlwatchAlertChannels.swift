import YAMLNodes

/// Text that must never be printed: a webhook URL (its path is the credential), an SMTP password, a header
/// value (`Authorization: Bearer ...`). Interpolating it, or printing a value that holds it, shows
/// `(secret)`; only ``value`` gives the text, where it is sent.
public struct SecretText: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "(secret)" }
    public var debugDescription: String { "(secret)" }
}

/// A setting with where the file sets it (`rlwatch.yaml:12`), for messages that must point at it later.
public struct LocatedSetting<Value: Sendable & Equatable>: Sendable, Equatable {
    public var value: Value
    public var location: String
}

/// The delivery channels of an rlwatch.yaml's `alerts` section, as the file sets them: nil for a channel or
/// a key the file does not mention. rlwatch's `SlackConfig`, `DiscordConfig`, `WebhookConfig` and
/// `EmailConfig`; its environment variables and defaults are applied on top of these by AlertDelivery.
public struct RlwatchChannelSections: Sendable, Equatable {
    public var slack: Slack?
    public var discord: Discord?
    public var webhook: Webhook?
    public var email: Email?

    public init() {}

    public struct Slack: Sendable, Equatable {
        public var enabled: LocatedSetting<Bool>?
        public var webhookURL: SecretText?
        public var channel: String?
        public var mentionUsers: [String]?
    }

    public struct Discord: Sendable, Equatable {
        public var enabled: LocatedSetting<Bool>?
        public var webhookURL: SecretText?
        public var username: String?
        public var avatarURL: String?
        public var mentionRoleIDs: [String]?
    }

    public struct Webhook: Sendable, Equatable {
        public var enabled: LocatedSetting<Bool>?
        public var url: SecretText?
        /// `POST` or `PUT`.
        public var method: String?
        public var headers: [Header]?
        /// A `string.Template` for the body, with its location (a template that makes no JSON is refused there).
        public var template: LocatedSetting<String>?
        public var timeoutSeconds: Double?
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: SecretText
    }

    public struct Email: Sendable, Equatable {
        public var enabled: LocatedSetting<Bool>?
        public var smtpHost: String?
        public var smtpPort: Int?
        public var smtpUser: String?
        public var smtpPassword: SecretText?
        public var fromAddress: String?
        public var toAddresses: [String]?
    }
}

/// Reading the channel sections, with the same typing (PyYAML's) and the same refusals as the rest of the
/// file. rlwatch sets each key with `setattr`, whatever its type; kltop takes what rlwatch can use and
/// refuses, naming the line, what it would fail on or read otherwise. A null value is an empty one, as it is
/// to rlwatch (`webhook_url:` alone sends nothing). Secret values are never repeated in a message.
extension SectionReader {
    mutating func readSlack(_ node: YAMLNode) throws(ConfigError) -> RlwatchChannelSections.Slack {
        var slack = RlwatchChannelSections.Slack()
        for (key, value) in try settings(of: node, "alerts.slack") {
            let name = key.string ?? ""
            let path = "alerts.slack.\(name)"
            switch name {
            case "enabled": slack.enabled = try located(bool(value, path), value)
            case "webhook_url": slack.webhookURL = SecretText(try text(value, path, isSecret: true))
            case "channel": slack.channel = try text(value, path)
            case "mention_users": slack.mentionUsers = try identifiers(value, path)
            default: warnUnknown(key, path)
            }
        }
        return slack
    }

    mutating func readDiscord(_ node: YAMLNode) throws(ConfigError) -> RlwatchChannelSections.Discord {
        var discord = RlwatchChannelSections.Discord()
        for (key, value) in try settings(of: node, "alerts.discord") {
            let name = key.string ?? ""
            let path = "alerts.discord.\(name)"
            switch name {
            case "enabled": discord.enabled = try located(bool(value, path), value)
            case "webhook_url": discord.webhookURL = SecretText(try text(value, path, isSecret: true))
            case "username": discord.username = try text(value, path)
            case "avatar_url": discord.avatarURL = try text(value, path)
            case "mention_role_ids": discord.mentionRoleIDs = try identifiers(value, path)
            default: warnUnknown(key, path)
            }
        }
        return discord
    }

    mutating func readWebhook(_ node: YAMLNode) throws(ConfigError) -> RlwatchChannelSections.Webhook {
        var webhook = RlwatchChannelSections.Webhook()
        for (key, value) in try settings(of: node, "alerts.webhook") {
            let name = key.string ?? ""
            let path = "alerts.webhook.\(name)"
            switch name {
            case "enabled": webhook.enabled = try located(bool(value, path), value)
            case "url": webhook.url = SecretText(try text(value, path, isSecret: true))
            case "method":
                let method = try text(value, path)
                guard method == "POST" || method == "PUT" else {
                    let hint =
                        ["POST", "PUT"].contains(method.uppercased())
                        ? "; in capitals: rlwatch sends the method as written" : ""
                    throw problem(value, "\(path) must be POST or PUT (got \(describe(value))\(hint))")
                }
                webhook.method = method
            case "headers": webhook.headers = try headers(value, path)
            case "template_json": webhook.template = try located(text(value, path), value)
            case "timeout_seconds":
                let seconds = try number(value, path)
                guard seconds.isFinite && seconds > 0 else {
                    throw problem(value, "\(path) must be a number of seconds > 0 (got \(describe(value)))")
                }
                webhook.timeoutSeconds = seconds
            default: warnUnknown(key, path)
            }
        }
        return webhook
    }

    mutating func readEmail(_ node: YAMLNode) throws(ConfigError) -> RlwatchChannelSections.Email {
        var email = RlwatchChannelSections.Email()
        for (key, value) in try settings(of: node, "alerts.email") {
            let name = key.string ?? ""
            let path = "alerts.email.\(name)"
            switch name {
            case "enabled": email.enabled = try located(bool(value, path), value)
            case "smtp_host": email.smtpHost = try text(value, path)
            case "smtp_port":
                // A quoted port works in rlwatch too (the socket layer takes "587").
                let port: Int
                if case .text? = try pythonValue(value, path), let digits = value.string,
                    let parsed = Int(digits), digits.allSatisfy(\.isASCII)
                {
                    port = parsed
                } else {
                    port = try integer(value, path)
                }
                guard (1...65535).contains(port) else {
                    throw problem(value, "\(path) must be a port number, 1 to 65535 (got \(describe(value)))")
                }
                email.smtpPort = port
            case "smtp_user": email.smtpUser = try text(value, path)
            case "smtp_password": email.smtpPassword = SecretText(try text(value, path, isSecret: true))
            case "from_addr": email.fromAddress = try text(value, path)
            case "to_addrs":
                // One address written alone is one recipient to rlwatch's smtplib too.
                if value.scalar != nil {
                    let address = try text(value, path)
                    email.toAddresses = address.isEmpty ? [] : [address]
                } else {
                    email.toAddresses = try identifiers(value, path)
                }
            default: warnUnknown(key, path)
            }
        }
        return email
    }

    private func located<Value>(_ value: Value, _ node: YAMLNode) -> LocatedSetting<Value> {
        LocatedSetting(value: value, location: "\(file):\(node.mark.line)")
    }

    /// A text value: quoted, or plain and text to PyYAML (`hooks.slack.com/...`); null is empty. A plain value
    /// PyYAML reads as something else is refused, since rlwatch would use that (`smtp_password: 0123` is the
    /// number 83 to it): quoting it says what is meant.
    private func text(_ node: YAMLNode, _ path: String, isSecret: Bool = false) throws(ConfigError) -> String
    {
        let typed: PyYAMLScalar?
        do {
            typed = try pythonValue(node, path)
        } catch {
            // The tag refusal repeats the value: not for a secret.
            if !isSecret { throw error }
            throw problem(node, "\(path) is written with a YAML tag: write the value without a tag")
        }
        switch typed {
        case .text?: return node.string ?? ""
        case .null?: return ""
        case nil:
            throw problem(node, "\(path) must be text (got \(node.mapping != nil ? "a mapping" : "a list"))")
        default:
            let got = isSecret ? "a value YAML reads as a \(kind(of: typed))" : describe(node)
            throw problem(node, "\(path) must be text (got \(got)): put it in quotes")
        }
    }

    /// A list of names or ids (Slack users, Discord roles, email addresses): text or whole numbers, which
    /// rlwatch formats as Python does (`<@&123>`). Null is an empty list.
    private func identifiers(_ node: YAMLNode, _ path: String) throws(ConfigError) -> [String] {
        if case .null? = try pythonValue(node, path) { return [] }
        guard let items = node.sequence else {
            throw problem(
                node,
                "\(path) must be a list (got \(describe(node)); rlwatch would take each character for an item)"
            )
        }
        var result: [String] = []
        for item in items {
            switch try pythonValue(item, path) {
            case .text?: result.append(item.string ?? "")
            case .int(let value)?: result.append(String(value))
            default:
                throw problem(item, "\(path) items must be text or whole numbers (got \(describe(item)))")
            }
        }
        return result
    }

    /// Header names and values, sent as written. A value may hold a credential and is never repeated.
    private func headers(_ node: YAMLNode, _ path: String) throws(ConfigError) -> [RlwatchChannelSections
        .Header]
    {
        guard node.mapping != nil else {
            throw problem(node, "\(path) must be a mapping of header names to values (got \(describe(node)))")
        }
        var result: [RlwatchChannelSections.Header] = []
        for (key, value) in try settings(of: node, path) {
            let name = key.string ?? ""
            let isToken =
                !name.isEmpty
                && name.unicodeScalars.allSatisfy {
                    $0.isASCII && $0.value > 0x20 && $0.value < 0x7F
                        && !"()<>@,;:\\\"/[]?={}".unicodeScalars
                            .contains($0)
                }
            guard isToken else {
                throw problem(key, "\(path): '\(TerminalText.inert(name))' is not a header name")
            }
            let text: String
            switch try pythonValue(value, "\(path).\(name)") {
            case .text?: text = value.string ?? ""
            case .int(let number)?: text = String(number)
            default:
                throw problem(value, "\(path).\(name) must be text (put it in quotes)")
            }
            guard !text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw problem(value, "\(path).\(name) holds a line break, which a header cannot")
            }
            result.append(RlwatchChannelSections.Header(name: name, value: SecretText(text)))
        }
        return result
    }

    private func kind(of typed: PyYAMLScalar?) -> String {
        switch typed {
        case .bool?: "boolean"
        case .int?, .bigInt?: "whole number"
        case .float?: "number"
        default: "value other than text"
        }
    }
}
