/// What one record of a log held, whatever the format: the readers in this folder turn each record into one
/// of these, and ``ReadStatistics/count(_:badLine:)`` keeps the books the same way for all of them.
enum RecordOutcome: Equatable, Sendable {
    /// A record with its step and a numeric KL value.
    case sample(MetricSample)
    /// A record that has the KL key, but no number under it (None, null, an empty string, a histogram).
    case missingValue
    /// A well-formed record without the KL key.
    case noMetric
    /// Not a well-formed record.
    case bad(String)
}

extension ReadStatistics {
    /// Counts one record; returns its sample, if it holds one. `badLine` says where a bad record was, given
    /// its reason.
    mutating func count(_ outcome: RecordOutcome, badLine: (String) -> BadLine) -> MetricSample? {
        switch outcome {
        case .sample(let sample):
            records += 1
            samples += 1
            return sample
        case .missingValue:
            records += 1
            missingValues += 1
        case .noMetric:
            records += 1
        case .bad(let reason):
            countBadLine(badLine(reason))
        }
        return nil
    }
}
