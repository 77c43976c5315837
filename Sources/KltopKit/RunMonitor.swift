import KLDetector
import RunLogs

/// One run's detector and alert policy, fed sample by sample: the shared core of `check`, `export` and the
/// dashboard.
public struct RunMonitor: Sendable {
    /// Renamed when the run's log records its name (``FollowEvent/runNamed(run:name:path:)``).
    public var name: String
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

    /// Runs one sample through the detector and the policy. A delivered alert carries numpy's exact
    /// figures, as rlwatch reports them; so does every raised one with `exactFiguresForEveryAlert` (`--raw`).
    /// Others may carry the detector's estimate (within 1e-9 relative): working them out costs O(window),
    /// too much for every step of a run that keeps firing.
    public mutating func observe(_ sample: MetricSample, exactFiguresForEveryAlert: Bool = false)
        -> Observation?
    {
        guard var verdict = detector.check(step: sample.step, value: sample.value) else { return nil }
        let clipRegion = detector.settings.clipRegion
        guard var alert = verdict.alert(clipRegion: clipRegion) else {
            return Observation(verdict: verdict, alert: nil, isDelivered: false)
        }
        raisedCount += 1
        let delivered = policy.admit(alert)
        if delivered {
            if alert.severity == .critical { deliveredCriticals += 1 } else { deliveredWarnings += 1 }
        }
        if delivered || exactFiguresForEveryAlert, !verdict.isExact {
            verdict = detector.exactFigures(for: verdict)
            alert = verdict.alert(clipRegion: clipRegion) ?? alert
        }
        return Observation(verdict: verdict, alert: alert, isDelivered: delivered)
    }
}
