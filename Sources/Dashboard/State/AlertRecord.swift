import KLDetector

/// A delivered alert and whether the user has acknowledged it.
public struct AlertRecord: Equatable, Sendable {
    public var run: RunID
    public var alert: Alert
    public var isAcknowledged: Bool
    /// The channels it could not be delivered to (the delivery thread gave up).
    public var undeliveredTo: [String] = []

    public init(run: RunID, alert: Alert, isAcknowledged: Bool) {
        self.run = run
        self.alert = alert
        self.isAcknowledged = isAcknowledged
    }
}

/// What identifies an alert across re-runs of the detector: an alert acknowledged before a change of
/// settings stays acknowledged if the new settings deliver it again.
struct AlertKey: Hashable, Sendable {
    var step: Int64
    var severity: Severity
}
