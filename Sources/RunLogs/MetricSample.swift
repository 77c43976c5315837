/// One KL sample read from a run log: the logged step and the value.
///
/// Records whose KL key is null are not samples (rlwatch skips them without counting); they only show in
/// ``ReadStatistics/missingValues``.
public struct MetricSample: Sendable, Equatable {
    public var step: Int64
    public var value: Double

    public init(step: Int64, value: Double) {
        self.step = step
        self.value = value
    }
}

/// A line (or, in a binary format, a record) that could not be read, kept so that the user can be told
/// where and why.
public struct BadLine: Sendable, Equatable {
    /// 1-based line number in the log; in a binary format (TensorBoard event files), the 1-based record
    /// number in the current file.
    public var lineNumber: Int
    public var reason: String
    /// Where the record starts in its file, for binary formats, whose records have no line number a person
    /// could look up.
    public var byteOffset: Int?

    public init(lineNumber: Int, reason: String, byteOffset: Int? = nil) {
        self.lineNumber = lineNumber
        self.reason = reason
        self.byteOffset = byteOffset
    }

    /// "line 12", or "record 5 at byte 1234".
    public var location: String {
        guard let byteOffset else { return "line \(lineNumber)" }
        return "record \(lineNumber) at byte \(byteOffset)"
    }
}

/// What reading a log has counted so far. Nothing is dropped silently: every line is a record, a bad line,
/// or ignorable (blank).
public struct ReadStatistics: Sendable, Equatable {
    /// Lines that held a well-formed record, whether or not it carried the KL key.
    public var records = 0
    /// Records that carried the KL key with a number (including NaN and the infinities).
    public var samples = 0
    /// Records whose KL key was null, or held something that is not a number.
    public var missingValues = 0
    /// Lines that were not a well-formed record: not JSON, cut short, binary garbage, too long.
    public var badLines = 0
    /// The first few bad lines, for the message that reports them.
    public var firstBadLines: [BadLine] = []
    /// Bytes consumed, including the separators.
    public var bytes = 0
    /// Lines that are not records and are not meant to be: what else a training script prints on its console
    /// (progress bars, warnings, tracebacks). Not a problem, so not bad lines.
    public var ignoredLines = 0
    /// Samples whose step field held no whole number (`12.5`, `"abc"`, beyond 64 bits): the record's ordinal
    /// was used as its step, as for a record without one, so that its KL value still counts.
    public var unusableSteps = 0
    /// The first of them: where, and the step as written.
    public var firstUnusableStep: BadLine?
    /// Keys of the first records that lacked the KL key (a CSV file's columns), where the reader can list
    /// them cheaply: what to name with `--metric` when the log holds no KL sample.
    public var keysSeen: [String] = []
    /// Records of a rotated log's part that repeat steps its previous part already gave (the parts overlap):
    /// skipped, and not counted in ``records`` or ``samples``.
    public var repeatedSteps = 0
    /// The log says the run is over (a trainer_state.json whose `global_step` reached `max_steps`, a W&B
    /// exit record): it is finished, not stale, when it goes quiet.
    public var runFinished = false
    /// Bytes of a last record the stream ended inside (the file ends that far into it), in a log whose
    /// records say where they end (length-framed, or JSON): the writer may not have written the rest yet
    /// (wandb-core writes a 32 KiB block at a time), so it is no bad record, and reading to the end says it
    /// apart. 0 when the stream ended between records. A log that says the run is over, or a stream followed
    /// by another (the run's next file, a replacement), makes it a bad record after all.
    public var heldAtEnd = 0
    /// The record behind ``heldAtEnd``, counted as a bad line if it turns out never to be completed.
    var heldAtEndRecord: BadLine?

    public init() {}

    public static let keptBadLines = 5

    mutating func countBadLine(_ line: BadLine) {
        badLines += 1
        if firstBadLines.count < Self.keptBadLines { firstBadLines.append(line) }
    }

    /// The stream ended `bytes` into a record: held as still being written, unless the log said the run is
    /// over, after which nothing more is written and the record is damage.
    mutating func holdAtEnd(_ line: BadLine, bytes: Int) {
        if runFinished {
            countBadLine(line)
        } else {
            heldAtEnd = bytes
            heldAtEndRecord = line
        }
    }

    /// Another stream begins (the run's next file, or the file read again from its start): a record the
    /// last one ended inside will never be completed, so it is a bad record after all.
    mutating func endHeldRecordAsBad() {
        guard let line = heldAtEndRecord else { return }
        heldAtEnd = 0
        heldAtEndRecord = nil
        countBadLine(line)
    }
}
