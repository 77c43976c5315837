/// What one poll of a store found for one run: the samples and stored alerts added since the last poll.
///
/// `run` is the run's name, unique within its store (``StoreRunNames``).
public struct RunUpdate: Sendable, Equatable {
    public var run: String
    /// In the order they were written.
    public var samples: [MetricSample]
    public var alerts: [RlwatchStoredAlert]
    /// Rows read for this run, whether or not they held a KL value.
    public var rows: Int
    /// Rows whose KL value was NULL (rlwatch stores NaN as NULL) or not a number.
    public var missingValues: Int
    /// The key the run's samples are read from; nil while a store whose runs choose their own key (MLflow,
    /// Trackio) has found none of the KL keys in this run.
    public var metricKey: String?
    /// Some keys of a run that has none of the KL keys (so far): what to name with `--metric`. Given once.
    public var keysSeen: [String] = []
    /// Rows or lines that could not be read (a metrics JSON that is not an object, a line of an MLflow
    /// metric file that is not `timestamp value step`), and the first few of them.
    public var badLines = 0
    public var firstBadLines: [BadLine] = []

    public init(
        run: String, samples: [MetricSample] = [], alerts: [RlwatchStoredAlert] = [], rows: Int = 0,
        missingValues: Int = 0, metricKey: String? = nil
    ) {
        self.metricKey = metricKey
        self.run = run
        self.samples = samples
        self.alerts = alerts
        self.rows = rows
        self.missingValues = missingValues
    }
}

extension RunUpdate {
    /// Counts a row or line that could not be read, keeping the first few for the message.
    mutating func countBadLine(_ line: BadLine) {
        badLines += 1
        if firstBadLines.count < ReadStatistics.keptBadLines { firstBadLines.append(line) }
    }
}
