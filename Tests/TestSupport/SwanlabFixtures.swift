import Foundation

/// Tests/Fixtures/formats/swanlab: four offline runs written by swanlab (make_swanlab_fixtures.py) and the
/// values they logged (expected.json).
public enum SwanlabFixtures {
    public typealias Value = WandbFixtures.Value

    /// The `swanlog/` folder, as `swanlab.init` lays it out (a `run-<date>_<time>-<id>/` folder per run).
    public static let folder = Fixtures.path("formats/swanlab/swanlog")

    /// The runs' experiment names, in the order they were written (their folders sort so).
    public static let names = ["grpo-seed0", "ppo-explicit", "long-run", "live-run"]

    /// The run folders, sorted: the generator's random ids change with each run of it.
    public static let runFolders: [String] = {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return entries.filter { $0.hasPrefix("run-") }.sorted()
    }()

    /// The `.swanlab` file of the run of this experiment name.
    public static func path(name: String) -> String {
        guard let index = names.firstIndex(of: name), index < runFolders.count else {
            return "missing-\(name)"
        }
        let runFolder = runFolders[index]
        let id = runFolder.split(separator: "-").last.map(String.init) ?? ""
        return folder + "/" + runFolder + "/run-\(id).swanlab"
    }

    public static func bytes(name: String) -> [UInt8] {
        FileManager.default.contents(atPath: path(name: name)).map(Array.init) ?? []
    }

    /// Every value logged under the keys the tests read, in the order logged; the doubles exact.
    public static let expected: [Value] = WandbFixtures.values(
        fromExpected: Fixtures.path("formats/swanlab/expected.json"))

    public static func expected(run: String, key: String) -> [Value] {
        expected.filter { $0.run == run && $0.key == key }
    }
}
