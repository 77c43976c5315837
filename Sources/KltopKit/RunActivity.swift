/// When a run last logged a step and how often it usually does: what tells a run that has gone quiet
/// (crashed, hung, lost its node) from one between two slow steps.
///
/// The rule: a run is **stale** once it has been silent for more than ten times its usual interval between
/// new steps, and never sooner than a minute (W&B's terminal viewer calls a run silent for ten minutes
/// crashed). The usual interval is a moving average (weight 0.2) of the times between arrivals of new steps;
/// steps that arrive together (a log's past, read at once) count as one arrival.
public struct RunActivity: Sendable, Equatable {
    public private(set) var lastActivity: Double?
    public private(set) var usualInterval: Double?

    public static let minimumSilence = 60.0
    public static let intervalsOfSilence = 10.0

    public init() {}

    /// New steps arrived at `time` (seconds on a monotonic clock).
    public mutating func observe(at time: Double) {
        if let last = lastActivity, time > last {
            let interval = time - last
            usualInterval = usualInterval.map { 0.8 * $0 + 0.2 * interval } ?? interval
        }
        lastActivity = max(time, lastActivity ?? time)
    }

    /// How long the run has been silent at `now`; nil before its first step.
    public func silence(at now: Double) -> Double? { lastActivity.map { max(0, now - $0) } }

    /// How long a silence makes the run stale.
    public var staleAfter: Double { max(Self.minimumSilence, Self.intervalsOfSilence * (usualInterval ?? 0)) }

    public func isStale(at now: Double) -> Bool { (silence(at: now) ?? 0) > staleAfter }

    /// A silence as a person says it: `45 s`, `12 min`, `3 h`.
    public static func describe(_ seconds: Double) -> String {
        if seconds < 90 { return "\(Int(seconds.rounded())) s" }
        if seconds < 90 * 60 { return "\(Int((seconds / 60).rounded())) min" }
        return "\(Int((seconds / 3600).rounded())) h"
    }
}
