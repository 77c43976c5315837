/// An alert rlwatch itself recorded in its store, shown beside kltop's own.
public struct RlwatchStoredAlert: Sendable, Equatable {
    public var run: String
    public var step: Int64
    /// `kl_explosion`, `gradient_norm_spike`, `loss_nan`, ...
    public var detector: String
    /// `warning` or `critical`.
    public var severity: String
    public var message: String

    public init(run: String, step: Int64, detector: String, severity: String, message: String) {
        self.run = run
        self.step = step
        self.detector = detector
        self.severity = severity
        self.message = message
    }
}
