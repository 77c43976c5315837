import Foundation
import FuzzHarnesses
import TestSupport
import Testing

/// Every input that once crashed a parser or broke a promise (Tests/Fixtures/fuzz/regressions/TARGET),
/// and every seed of the fuzzing corpus (the repository's own logs, configs and themes, cut in pieces by
/// the harnesses), through its target's harness, in process: a regression fails here, and so does a
/// harness whose promise is wrong for the repository's own files. A parser that crashes crashes the run.
@Suite struct FuzzRegressionTests {
    @Test(arguments: FuzzTarget.allCases)
    func everyRegressionInputAndSeedKeepsEveryPromise(_ target: FuzzTarget) {
        let seeds = target.seeds()
        #expect(!seeds.isEmpty)
        for seed in seeds {
            do {
                try target.run(seed.bytes)
            } catch {
                Issue.record("\(target.rawValue) \(seed.name): \(error)")
            }
        }
    }

    /// A folder of regressions named after no target would never be run.
    @Test func regressionFoldersAreNamedAfterTargets() {
        let folders =
            (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.path("fuzz/regressions"))) ?? []
        let names = Set(FuzzTarget.allCases.map(\.rawValue))
        #expect(folders.filter { !names.contains($0) && $0 != "README.md" } == [])
    }
}
