import Foundation

/// Tests/Fixtures/formats/wandb: three offline runs written by wandb-core (make_wandb_fixtures.py) and the
/// values they logged (expected.json).
public enum WandbFixtures {
    /// The `wandb/` folder, as `wandb.init` lays it out (run folders and the `latest-run` link).
    public static let folder = Fixtures.path("formats/wandb/wandb")

    /// The runs: id, and the name kltop gives it (the display name, else the id).
    public static let runs: [(id: String, name: String)] = [
        ("grpo01", "grpo-beta-0.04"), ("ppo02", "ppo02"), ("big03", "long-run"),
    ]

    /// The `.wandb` file of the run with this id.
    public static func path(id: String) -> String {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let run = entries.first { $0.hasSuffix("-" + id) && $0.contains("run-") } ?? "missing-\(id)"
        return folder + "/" + run + "/run-\(id).wandb"
    }

    public static func bytes(id: String) -> [UInt8] {
        FileManager.default.contents(atPath: path(id: id)).map(Array.init) ?? []
    }

    public struct Value: Equatable, Sendable, CustomStringConvertible {
        public var run: String
        public var key: String
        public var step: Int64
        public var value: Double

        public init(run: String, key: String, step: Int64, value: Double) {
            self.run = run
            self.key = key
            self.step = step
            self.value = value
        }

        /// Equal to the bit, NaN to NaN.
        public static func == (a: Value, b: Value) -> Bool {
            a.run == b.run && a.key == b.key && a.step == b.step
                && (a.value.bitPattern == b.value.bitPattern || (a.value.isNaN && b.value.isNaN))
        }

        public var description: String { "\(run) \(key) \(step)=\(value)" }
    }

    /// Every value logged under the keys the tests read, in the order logged; the doubles exact (written
    /// with Python's repr: `nan`, `inf`, `-inf` and shortest decimals, which Swift's `Double(_:)` reads).
    public static let expected: [Value] = values(fromExpected: Fixtures.path("formats/wandb/expected.json"))

    /// The values of an expected.json of the generator scripts (W&B's, SwanLab's).
    public static func values(fromExpected path: String) -> [Value] {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let values = object["values"] as? [[String: Any]]
        else { return [] }
        return values.compactMap { entry in
            guard let run = entry["run"] as? String, let key = entry["key"] as? String,
                let step = (entry["step"] as? NSNumber)?.int64Value, let text = entry["value"] as? String,
                let value = Double(text)
            else { return nil }
            return Value(run: run, key: key, step: step, value: value)
        }
    }

    public static func expected(run: String, key: String) -> [Value] {
        expected.filter { $0.run == run && $0.key == key }
    }
}
