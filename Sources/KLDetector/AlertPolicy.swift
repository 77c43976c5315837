/// rlwatch's `AlertConfig` delivery settings.
public struct AlertPolicySettings: Sendable, Equatable {
    /// A repeat of the same severity within this many logged steps is suppressed.
    public var cooldownSteps: Int64
    /// No alert is delivered after this many.
    public var maxAlertsPerRun: Int

    public init(cooldownSteps: Int64 = 100, maxAlertsPerRun: Int = 50) {
        self.cooldownSteps = cooldownSteps
        self.maxAlertsPerRun = maxAlertsPerRun
    }
}

/// Decides which alerts a person is shown, as rlwatch's `AlertManager.should_send` does.
///
/// Cooldowns are per severity, so a critical passes through a warning's cooldown; each severity still
/// respects its own. Steps are the logged step numbers, not sample counts.
public struct AlertPolicy: Sendable {
    public let settings: AlertPolicySettings
    public private(set) var deliveredCount = 0
    private var lastWarningStep: Int64?
    private var lastCriticalStep: Int64?

    public init(settings: AlertPolicySettings = AlertPolicySettings()) {
        self.settings = settings
    }

    /// Records and returns true when the alert is to be delivered; returns false when it is suppressed.
    public mutating func admit(_ alert: Alert) -> Bool {
        if deliveredCount >= settings.maxAlertsPerRun { return false }
        let last = alert.severity == .warning ? lastWarningStep : lastCriticalStep
        if let last, isWithinCooldown(step: alert.step, since: last) { return false }
        // rlwatch's default "last step" is -cooldown-1, which also suppresses a first alert at a step below -1.
        if last == nil, isWithinCooldown(step: alert.step, since: -settings.cooldownSteps - 1) {
            return false
        }
        deliveredCount += 1
        switch alert.severity {
        case .warning: lastWarningStep = alert.step
        case .critical: lastCriticalStep = alert.step
        }
        return true
    }

    /// `step - last < cooldown`, as Python's unbounded integers would compute it.
    private func isWithinCooldown(step: Int64, since last: Int64) -> Bool {
        let (difference, overflow) = step.subtractingReportingOverflow(last)
        return overflow ? step < last : difference < settings.cooldownSteps
    }
}
