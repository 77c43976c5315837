import KLDetector
import RunLogs

/// One run's detector and alert policy, fed sample by sample: the shared core of `check`, `export` and the
/// dashboard.
public struct RunMonitor: Sendable {
    public let name: String
    public private(set) var detector: KLExplosionDetector
    public private(set) var policy: AlertPolicy
    public private(set) var raisedCount = 0
    public private(set) var deliveredWarnings = 0
    public private(set) var deliveredCriticals = 0

    public init(name: String, detector: DetectorSettings, policy: AlertPolicySettings) {
        self.name = name
        self.detector = KLExplosionDetector(settings: detector)
        self.policy = AlertPolicy(settings: policy)
    }

    /// What one sample led to.
    public struct Observation: Sendable {
        public var verdict: StepVerdict
        /// The raw alert rlwatch's detector returns at this step, if any.
        public var alert: Alert?
        /// Whether the alert policy lets that alert through to a person.
        public var isDelivered: Bool
    }

    public mutating func observe(_ sample: MetricSample) -> Observation? {
        guard let verdict = detector.check(step: sample.step, value: sample.value) else { return nil }
        guard let alert = verdict.alert(clipRegion: detector.settings.clipRegion) else {
            return Observation(verdict: verdict, alert: nil, isDelivered: false)
        }
        raisedCount += 1
        let delivered = policy.admit(alert)
        if delivered {
            if alert.severity == .critical { deliveredCriticals += 1 } else { deliveredWarnings += 1 }
        }
        return Observation(verdict: verdict, alert: alert, isDelivered: delivered)
    }
}
