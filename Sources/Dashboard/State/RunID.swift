/// Identifies a run across events. The terminal layer picks the ids (the index of the path on the command
/// line, a demo run's number); a run keeps its id, and so its overlay colour, for the whole session.
public struct RunID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public static func < (a: RunID, b: RunID) -> Bool { a.rawValue < b.rawValue }

    public var description: String { "run \(rawValue)" }
}

/// Where a run's log stands, as the tailing layer sees it.
public enum RunSourceStatus: Equatable, Sendable {
    /// The path does not exist (yet): a run that has not started logging.
    case waitingForFile
    /// The path exists but cannot be read; the message says why.
    case unreadable(String)
    /// Being read and followed.
    case following
    /// A FIFO nobody has opened for writing yet.
    case waitingForWriter
    /// Standard input or a pipe whose writer closed it: everything it held has been read.
    case ended
    /// A run on another machine whose connection failed or dropped: what was read stays, and kltop
    /// connects again; the message says why and when.
    case disconnected(String)
}
