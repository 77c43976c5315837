import LogFollowing
import RunLogs

/// The notes `kltop export --with-notes` writes between the steps: what another machine's kltop needs,
/// besides the steps, to show the runs as this one reads them. ``RemoteStream`` (in LogFollowing) reads
/// them back and documents each.
public enum StreamNotes {
    public static func run(name: String, path: String) -> String {
        "{\"note\": \"run\", \"run\": \(JSONText.string(name)), \"path\": \(JSONText.string(path))}"
    }

    public static func renamed(run: String, to name: String) -> String {
        "{\"note\": \"renamed\", \"run\": \(JSONText.string(run)), \"name\": \(JSONText.string(name))}"
    }

    public static func read(run: String, metricKey: String?, _ statistics: ReadStatistics) -> String {
        let metric = metricKey.map(JSONText.string) ?? "null"
        return "{\"note\": \"read\", \"run\": \(JSONText.string(run)), \"metric\": \(metric), "
            + figures(statistics) + "}"
    }

    public static func notice(run: String?, _ notice: Notice) -> String {
        let name = run.map(JSONText.string) ?? "null"
        return "{\"note\": \"notice\", \"run\": \(name), \"kind\": \(JSONText.string(notice.kind.wireName)), "
            + "\"path\": \(JSONText.string(notice.path)), \"message\": \(JSONText.string(notice.message))}"
    }

    public static func withoutKL(path: String, _ statistics: ReadStatistics) -> String {
        "{\"note\": \"withoutKL\", \"path\": \(JSONText.string(path)), " + figures(statistics) + "}"
    }

    public static func ended(run: String) -> String {
        "{\"note\": \"ended\", \"run\": \(JSONText.string(run))}"
    }

    public static let caughtUp = "{\"note\": \"caughtUp\"}"

    private static func figures(_ statistics: ReadStatistics) -> String {
        let badLines = statistics.firstBadLines.map { "[\($0.lineNumber), \(JSONText.string($0.reason))]" }
        let keys = statistics.keysSeen.map(JSONText.string)
        return "\"records\": \(statistics.records), \"samples\": \(statistics.samples), "
            + "\"missing\": \(statistics.missingValues), \"bad\": \(statistics.badLines), "
            + "\"ignored\": \(statistics.ignoredLines), \"unusable\": \(statistics.unusableSteps), "
            + "\"repeated\": \(statistics.repeatedSteps), \"bytes\": \(statistics.bytes), "
            + "\"heldAtEnd\": \(statistics.heldAtEnd), "
            + "\"finished\": \(statistics.runFinished), \"badLines\": [\(badLines.joined(separator: ", "))], "
            + "\"keys\": [\(keys.joined(separator: ", "))]"
    }
}
