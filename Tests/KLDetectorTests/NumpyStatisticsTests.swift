import Foundation
import KLDetector
import TestSupport
import Testing

/// NumpyStatistics against np.sum, np.mean and np.std themselves (Tests/Fixtures/numpy/make_numpy.py), bit for
/// bit, at the sizes where pairwise summation changes shape (8, 128/129, 8192/8193) and far beyond.
@Suite struct NumpyStatisticsTests {
    struct Case: Sendable, CustomStringConvertible {
        var seed: UInt64
        var count: Int
        var offset: Double
        var scale: Double
        var sum: Double
        var mean: Double
        var std: Double
        var description: String { "n=\(count) offset=\(offset) scale=\(scale)" }
    }

    static let cases: [Case] = {
        guard let data = FileManager.default.contents(atPath: Fixtures.path("numpy/numpy_statistics.json")),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let rows = json["cases"] as? [[String: Any]]
        else { return [] }
        return rows.map { row in
            func hex(_ key: String) -> Double { Double(row[key] as! String)! }
            return Case(
                seed: (row["seed"] as! NSNumber).uint64Value, count: (row["count"] as! NSNumber).intValue,
                offset: hex("offset"), scale: hex("scale"), sum: hex("sum"), mean: hex("mean"),
                std: hex("std"))
        }
    }()

    @Test func fixtureIsThere() { #expect(Self.cases.count > 150) }

    @Test(arguments: cases)
    func matchesNumpyBitForBit(_ c: Case) {
        var random = SplitMix64(state: c.seed)
        let values = (0..<c.count).map { _ in c.offset + c.scale * random.unit() }
        let sum = values.withUnsafeBufferPointer { NumpyStatistics.pairwiseSum($0) }
        let (mean, std) = NumpyStatistics.meanAndStandardDeviation(values)
        #expect(sum.bitPattern == c.sum.bitPattern, "sum \(sum) numpy \(c.sum)")
        #expect(mean.bitPattern == c.mean.bitPattern, "mean \(mean) numpy \(c.mean)")
        #expect(std.bitPattern == c.std.bitPattern, "std \(std) numpy \(c.std)")
    }

    @Test func aPlainLeftToRightSumWouldNotMatch() {
        // Guards the fixture's power to catch a wrong summation order: at least some cases must differ.
        let differing = Self.cases.filter { c in
            var random = SplitMix64(state: c.seed)
            let values = (0..<c.count).map { _ in c.offset + c.scale * random.unit() }
            return values.reduce(0, +) != c.sum
        }
        #expect(differing.count > 10)
    }
}
