import Foundation

/// Where the test fixtures live, found from this file's path so that tests run from any directory.
public enum Fixtures {
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static let packageRoot: URL = root.deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// A copy of a fixture file in a fresh temporary folder, for every test that opens rlwatch's store:
    /// SQLite creates `-shm`/`-wal` files beside a WAL database it opens, and a test must never write into
    /// the repository.
    public static func copy(_ relative: String) throws -> String {
        let directory = try TemporaryDirectory.make("kltop-fixture")
        let copy = directory.appendingPathComponent(URL(fileURLWithPath: relative).lastPathComponent).path
        try FileManager.default.copyItem(atPath: path(relative), toPath: copy)
        return copy
    }

    /// Files under Tests/Fixtures that SQLite leaves beside a database it opened in place.
    public static func strayDatabaseCompanions() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        var found: [String] = []
        while let file = enumerator?.nextObject() as? String {
            if file.hasSuffix("-wal") || file.hasSuffix("-shm") || file.hasSuffix("-journal") {
                found.append(file)
            }
        }
        return found
    }

    /// The shared conformance folder beside the repository (`../shared/conformance`): the source of truth
    /// that `Tests/Fixtures/conformance` copies.
    public static let sharedConformance: String = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/conformance").path

    /// Every rlwatch-decided case: the shared folder's when it is there (an updated case there is replayed
    /// as updated), the repository's copies of any it lacks (or all of them, without it), and the edge cases
    /// made by Tests/Fixtures/edges/make_edges.py.
    public static func detectorCases() throws -> [DetectorCase] {
        try detectorCases(in: [sharedConformance, path("conformance"), path("edges")])
    }

    /// The cases in `directories` (those that exist); a name in several of them is taken from the first.
    public static func detectorCases(in directories: [String]) throws -> [DetectorCase] {
        var cases: [DetectorCase] = []
        var names: Set<String> = []
        for directory in directories {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
                continue
            }
            for file in files.sorted() where file.hasSuffix(".expected.json") {
                let name = String(file.dropLast(".expected.json".count))
                guard names.insert(name).inserted else { continue }
                cases.append(try DetectorCase(directory: directory, name: name))
            }
        }
        return cases
    }
}

/// One run log with what rlwatch 0.5.1 decided on it.
public struct DetectorCase: Sendable, CustomStringConvertible {
    public var name: String
    public var logPath: String
    public var metricKey: String
    public var sigmaMultiplier: Double
    public var rollingWindow: Int
    public var warmupSteps: Int
    public var baselineMode: String
    public var raw: [ExpectedAlert]
    public var delivered: [ExpectedAlert]

    public var description: String { name }

    init(directory: String, name: String) throws {
        self.name = name
        logPath = directory + "/" + name + ".jsonl"
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name + ".expected.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        metricKey = json["metric_key"] as! String
        let config = json["config"] as! [String: Any]
        sigmaMultiplier = (config["sigma_multiplier"] as! NSNumber).doubleValue
        rollingWindow = (config["rolling_window"] as! NSNumber).intValue
        warmupSteps = (config["warmup_steps"] as! NSNumber).intValue
        baselineMode = config["baseline_mode"] as! String
        raw = (json["raw"] as! [[String: Any]]).map(ExpectedAlert.init)
        delivered = (json["delivered"] as! [[String: Any]]).map(ExpectedAlert.init)
    }
}

/// An alert as rlwatch wrote it: step, severity and the four figures.
public struct ExpectedAlert: Sendable, Equatable, CustomStringConvertible {
    public var step: Int64
    public var severity: String
    public var klDivergence: Double
    public var rollingMean: Double
    public var rollingStd: Double
    public var zScore: Double

    public init(
        step: Int64, severity: String, klDivergence: Double, rollingMean: Double, rollingStd: Double,
        zScore: Double
    ) {
        self.step = step
        self.severity = severity
        self.klDivergence = klDivergence
        self.rollingMean = rollingMean
        self.rollingStd = rollingStd
        self.zScore = zScore
    }

    init(_ json: [String: Any]) {
        step = (json["step"] as! NSNumber).int64Value
        severity = json["severity"] as! String
        klDivergence = Self.number(json["kl_divergence"])
        rollingMean = Self.number(json["rolling_mean"])
        rollingStd = Self.number(json["rolling_std"])
        zScore = Self.number(json["z_score"])
    }

    /// Numbers, or the strings "inf", "-inf", "nan" that stand for the non-finite ones.
    public static func number(_ value: Any?) -> Double {
        if let number = value as? NSNumber { return number.doubleValue }
        switch value as? String {
        case "inf": return .infinity
        case "-inf": return -.infinity
        default: return .nan
        }
    }

    public var description: String {
        "step \(step) \(severity) kl=\(klDivergence) mean=\(rollingMean) std=\(rollingStd) z=\(zScore)"
    }

    /// Same step and severity, and figures equal to 1e-9 relative (non-finite ones exactly).
    public func matches(_ other: ExpectedAlert) -> Bool {
        step == other.step && severity == other.severity && Self.close(klDivergence, other.klDivergence)
            && Self.close(rollingMean, other.rollingMean) && Self.close(rollingStd, other.rollingStd)
            && Self.close(zScore, other.zScore)
    }

    public static func close(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if !a.isFinite || !b.isFinite { return a == b }
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) || a == b
    }
}
