import Foundation

/// What the MLflow and Trackio fixtures hold (their generators' expected.json): every run's KL series as
/// logged, by the name kltop gives the run.
public enum StoreFixtures {
    public struct Run: Sendable, CustomStringConvertible {
        /// kltop's name: the writer's run name; a later run of a name already given is named after its
        /// experiment (MLflow), or counted (`~2`, Trackio).
        public var name: String
        public var runName: String
        public var experiment: String?
        public var key: String
        public var samples: [Sample]
        public var description: String { name }
    }

    public struct Sample: Sendable, Equatable, CustomStringConvertible {
        public var step: Int64
        public var value: Double

        public init(step: Int64, value: Double) {
            self.step = step
            self.value = value
        }

        /// Equal values, NaN equal to NaN (and nothing else): what "read exactly as logged" means.
        public static func == (a: Sample, b: Sample) -> Bool {
            a.step == b.step && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
        }

        public var description: String { "\(step)=\(value)" }
    }

    public static let mlflowFolder = "formats/mlflow"
    public static let trackioDatabase = "formats/trackio/kltop-fixture.db"
    public static let legacyTrackioDatabase = "formats/trackio/legacy/kltop-legacy.db"

    public static func mlflowRuns() -> [Run] { runs(Fixtures.path("formats/mlflow/expected.json")) }

    public static func trackioRuns(legacy: Bool = false) -> [Run] {
        runs(Fixtures.path(legacy ? "formats/trackio/legacy/expected.json" : "formats/trackio/expected.json"))
    }

    private static func runs(_ path: String) -> [Run] {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let entries = object["runs"] as? [[String: Any]]
        else { return [] }
        var taken: Set<String> = []
        return entries.map { entry in
            let runName = entry["run_name"] as? String ?? ""
            let experiment = entry["experiment"] as? String
            var name = runName
            if taken.contains(name), let experiment { name = experiment + "/" + name }
            var counter = 2
            while taken.contains(name) {
                name = "\(runName)~\(counter)"
                counter += 1
            }
            taken.insert(name)
            let samples = (entry["samples"] as? [[Any]] ?? []).map { pair in
                // Values are Python's repr() of the double: Swift's Double(String) reads them exactly.
                Sample(
                    step: (pair[0] as? NSNumber)?.int64Value ?? -1,
                    value: Double(pair[1] as? String ?? "") ?? -1)
            }
            return Run(
                name: name, runName: runName, experiment: experiment, key: entry["key"] as? String ?? "",
                samples: samples)
        }
    }
}
