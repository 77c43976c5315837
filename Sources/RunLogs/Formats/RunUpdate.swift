/// What one poll of a store found for one run: the samples and stored alerts added since the last poll.
public struct RunUpdate: Sendable, Equatable {
    public var run: String
    /// In the order they were written.
    public var samples: [MetricSample]
    public var alerts: [RlwatchStoredAlert]
    /// Rows read for this run, whether or not they held a KL value.
    public var rows: Int
    /// Rows whose KL value was NULL (rlwatch stores NaN as NULL) or not a number.
    public var missingValues: Int

    public init(
        run: String, samples: [MetricSample] = [], alerts: [RlwatchStoredAlert] = [], rows: Int = 0,
        missingValues: Int = 0
    ) {
        self.run = run
        self.samples = samples
        self.alerts = alerts
        self.rows = rows
        self.missingValues = missingValues
    }
}
