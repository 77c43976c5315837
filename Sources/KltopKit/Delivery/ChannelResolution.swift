/// The channels alerts go to, as rlwatch resolves them: the file's `alerts` section, then its environment
/// variables over it (`RLWATCH_SLACK_WEBHOOK_URL`, `RLWATCH_DISCORD_WEBHOOK_URL`, `RLWATCH_WEBHOOK_URL`,
/// `RLWATCH_WEBHOOK_TEMPLATE`, `RLWATCH_SLACK_CHANNEL`, `RLWATCH_SMTP_HOST`, `RLWATCH_SMTP_PORT`,
/// `RLWATCH_SMTP_USER`, `RLWATCH_SMTP_PASSWORD`, `RLWATCH_EMAIL_FROM`, `RLWATCH_EMAIL_TO`), then its
/// defaults. As in rlwatch, a channel whose URL (for email, whose recipients) is set is enabled, whatever
/// `enabled` says, and one without is not.
extension ResolvedSettings {
    public func alertChannels(environment: [String: String], onAlert: String? = nil) throws(ConfigError)
        -> [AlertChannel]
    {
        let file = configFile ?? "the environment"
        func env(_ name: String) -> String? { environment[name] }
        var result: [AlertChannel] = []

        let slackURL = env("RLWATCH_SLACK_WEBHOOK_URL").map(SecretText.init) ?? channels.slack?.webhookURL
        if let slackURL, !slackURL.isEmpty {
            result.append(
                .slack(
                    AlertChannel.Slack(
                        webhookURL: slackURL,
                        channel: env("RLWATCH_SLACK_CHANNEL") ?? channels.slack?.channel ?? "",
                        mentionUsers: channels.slack?.mentionUsers ?? [])))
        }
        let discordURL =
            env("RLWATCH_DISCORD_WEBHOOK_URL").map(SecretText.init) ?? channels.discord?.webhookURL
        if let discordURL, !discordURL.isEmpty {
            let discord = channels.discord
            result.append(
                .discord(
                    AlertChannel.Discord(
                        webhookURL: discordURL, username: discord?.username ?? "rlwatch",
                        avatarURL: discord?.avatarURL ?? "", mentionRoleIDs: discord?.mentionRoleIDs ?? [])))
        }
        let webhookURL = env("RLWATCH_WEBHOOK_URL").map(SecretText.init) ?? channels.webhook?.url
        if let webhookURL, !webhookURL.isEmpty {
            let webhook = channels.webhook
            let channel = AlertChannel.Webhook(
                url: webhookURL, method: webhook?.method ?? "POST", headers: webhook?.headers ?? [],
                template: env("RLWATCH_WEBHOOK_TEMPLATE") ?? webhook?.template?.value ?? "",
                timeoutSeconds: webhook?.timeoutSeconds ?? 10)
            // rlwatch finds out at the first alert; kltop says so before watching.
            let sample = AlertMessage.alert(
                AlertReport(
                    run: RunIdentity(name: "run \"1\"", source: "-"), metric: "kl",
                    alert: .init(
                        step: 1, severity: .critical, klDivergence: 1, rollingMean: 0.1, rollingStd: 0.01,
                        zScore: 90, clipRegion: 0.2), sigmaMultiplier: 3))
            do {
                _ = try channel.body(sample, timestamp: DeliveryClock.timestamp())
            } catch {
                let location =
                    env("RLWATCH_WEBHOOK_TEMPLATE") != nil
                    ? "RLWATCH_WEBHOOK_TEMPLATE" : webhook?.template?.location ?? file
                throw ConfigError(file: location, line: nil, message: error.description)
            }
            result.append(.webhook(channel))
        }
        let email = channels.email
        let to =
            env("RLWATCH_EMAIL_TO").map {
                $0.split(separator: ",").map(\.trimmingSpaces)
            }
            ?? email?.toAddresses ?? []
        if !to.filter({ !$0.isEmpty }).isEmpty {
            var port = email?.smtpPort ?? 587
            if let text = env("RLWATCH_SMTP_PORT") {
                guard let value = Int(text), (1...65535).contains(value) else {
                    throw ConfigError(
                        file: "RLWATCH_SMTP_PORT", line: nil, message: "must be a port number, 1 to 65535")
                }
                port = value
            }
            let from = env("RLWATCH_EMAIL_FROM") ?? email?.fromAddress ?? ""
            guard !from.isEmpty else {
                throw ConfigError(
                    file: file, line: nil,
                    message: "email alerts need a sender: alerts.email.from_addr (or RLWATCH_EMAIL_FROM)")
            }
            result.append(
                .email(
                    AlertChannel.Email(
                        host: env("RLWATCH_SMTP_HOST") ?? email?.smtpHost ?? "smtp.gmail.com", port: port,
                        user: env("RLWATCH_SMTP_USER") ?? email?.smtpUser ?? "",
                        password: env("RLWATCH_SMTP_PASSWORD").map(SecretText.init) ?? email?.smtpPassword
                            ?? SecretText(""),
                        from: from, to: to.filter { !$0.isEmpty })))
        }
        if let onAlert { result.append(.command(onAlert)) }
        return result
    }
}

extension Substring {
    /// Without the spaces (Unicode's space separators) and tabs at either end, as Foundation's
    /// `trimmingCharacters(in: .whitespaces)` trimmed them.
    var trimmingSpaces: String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[first...last])
    }
}
