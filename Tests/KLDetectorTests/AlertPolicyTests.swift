import KLDetector
import Testing

/// rlwatch's AlertManager.should_send, case by case.
@Suite struct AlertPolicyTests {
    static func alert(_ step: Int64, _ severity: Severity) -> Alert {
        Alert(
            step: step, severity: severity, klDivergence: 1, rollingMean: 0, rollingStd: 1, zScore: 5,
            clipRegion: 0.2)
    }

    func admit(_ policy: inout AlertPolicy, _ alert: Alert) -> Bool { policy.admit(alert) }

    @Test func repeatsWithinTheCooldownAreSuppressed() {
        var policy = AlertPolicy(settings: AlertPolicySettings(cooldownSteps: 100))
        #expect(admit(&policy, Self.alert(10, .warning)))
        #expect(!admit(&policy, Self.alert(109, .warning)))
        #expect(admit(&policy, Self.alert(110, .warning)))  // exactly the cooldown apart: delivered
        #expect(!admit(&policy, Self.alert(150, .warning)))  // measured from the last delivered one
    }

    @Test func aCriticalPassesAWarningsCooldownButNotItsOwn() {
        var policy = AlertPolicy()
        #expect(admit(&policy, Self.alert(10, .warning)))
        #expect(admit(&policy, Self.alert(11, .critical)))
        #expect(!admit(&policy, Self.alert(12, .critical)))
        #expect(!admit(&policy, Self.alert(13, .warning)))
    }

    @Test func atMostMaxAlertsPerRun() {
        var policy = AlertPolicy(settings: AlertPolicySettings(cooldownSteps: 0, maxAlertsPerRun: 3))
        let admitted = (0..<10).filter {
            policy.admit(Self.alert(Int64($0), $0 % 2 == 0 ? .warning : .critical))
        }
        #expect(admitted == [0, 1, 2])
        #expect(policy.deliveredCount == 3)
    }

    @Test func firstAlertAtAStepBelowMinusOneIsSuppressedAsInRlwatch() {
        // rlwatch's default "last step" is -cooldown-1, so step - last < cooldown when step < -1.
        var policy = AlertPolicy()
        #expect(!admit(&policy, Self.alert(-2, .warning)))
        #expect(admit(&policy, Self.alert(-1, .warning)))
    }

    @Test func stepsFarApartDoNotOverflow() {
        var policy = AlertPolicy()
        #expect(admit(&policy, Self.alert(Int64.max - 5, .warning)))
        #expect(!admit(&policy, Self.alert(Int64.min, .warning)))
        #expect(!admit(&policy, Self.alert(Int64.min + 5, .critical)))
    }
}
