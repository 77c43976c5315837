import Foundation
import RunLogs
import TestSupport
import Testing

/// How a test hands bytes to a reader: all at once, in pieces of one size, or in pieces of random sizes.
enum Chunking: CustomStringConvertible {
    case whole
    case fixed(Int)
    case random(seed: UInt64, maximum: Int)

    var description: String {
        switch self {
        case .whole: "whole"
        case .fixed(let size): "pieces of \(size)"
        case .random(let seed, let maximum): "random pieces up to \(maximum) (seed \(seed))"
        }
    }

    func pieces(of count: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var generator = SeededGenerator(seed: { if case .random(let seed, _) = self { seed } else { 0 } }())
        var offset = 0
        while offset < count {
            let size: Int
            switch self {
            case .whole: size = count
            case .fixed(let fixed): size = max(1, fixed)
            case .random(_, let maximum): size = Int.random(in: 1...max(1, maximum), using: &generator)
            }
            ranges.append(offset..<min(count, offset + size))
            offset += size
        }
        return ranges
    }
}

/// Feeds `bytes` to `reader` in the pieces `chunking` says, collecting the samples.
func feed<Reader: SampleReader>(
    _ reader: inout Reader, _ bytes: [UInt8], _ chunking: Chunking = .whole,
    into samples: inout [MetricSample]
) {
    for range in chunking.pieces(of: bytes.count) {
        bytes[range].withUnsafeBytes { reader.consume($0) { samples.append($0) } }
    }
}

/// Reads `bytes` with a fresh reader, then finishes it unless told not to.
func read<Reader: SampleReader>(
    _ reader: Reader, _ bytes: [UInt8], _ chunking: Chunking = .whole, finish: Bool = true
) -> (samples: [MetricSample], reader: Reader) {
    var reader = reader
    var samples: [MetricSample] = []
    feed(&reader, bytes, chunking, into: &samples)
    if finish { reader.finish { samples.append($0) } }
    return (samples, reader)
}

/// The bytes of a file under Tests/Fixtures/formats.
func formatFixture(_ relative: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("formats/" + relative))))
}

/// The fixtures' KL series (make_fixtures.py's `kl_at`): 0.020 ... 0.030, 5.0 at the spike step.
func klAt(_ step: Int, spike: Int?) -> Double {
    step == spike ? 5.0 : Double(20 + (step * 37) % 11) / 1000
}

/// Tests/Fixtures/formats/expected.json.
enum FormatExpectations {
    nonisolated(unsafe) static let all: [String: Any] = {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: Fixtures.path("formats/expected.json"))),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }()

    static func entry(_ key: String) -> [String: Any] { all[key] as? [String: Any] ?? [:] }

    static func steps(_ entry: [String: Any]) -> ClosedRange<Int>? {
        guard let pair = entry["steps"] as? [Int], pair.count == 2 else { return nil }
        return pair[0]...pair[1]
    }

    static func spike(_ entry: [String: Any]) -> Int? { entry["spike_step"] as? Int }
}

/// Samples as exact text (step and the value's bits), so that a comparison shows which differ.
func exactSamples(_ samples: [MetricSample]) -> [String] {
    samples.map { "\($0.step):\($0.value.isNaN ? "nan" : String($0.value.bitPattern))" }
}

/// Reads `bytes` cut at every `stride`-th offset and finished, as a live file is read to its end: what
/// precedes the cut comes out as in the whole file, and the record the cut falls in (none when it falls
/// between records) is held as still being written, not bad — unless the run had finished, when nothing is
/// held or bad. Returns how many cuts held a record.
func expectCutsHeldUnlessFinished<Reader: SampleReader>(
    _ make: () -> Reader, _ bytes: [UInt8], stride step: Int = 1,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Int {
    let whole = exactSamples(read(make(), bytes).samples)
    var held = 0
    for cut in stride(from: 1, to: bytes.count, by: step) {
        let (samples, reader) = read(make(), Array(bytes[..<cut]))
        let statistics = reader.statistics
        #expect(
            Array(whole.prefix(samples.count)) == exactSamples(samples), "cut at \(cut)",
            sourceLocation: sourceLocation)
        #expect(
            statistics.badLines + (statistics.heldAtEnd > 0 ? 1 : 0) <= 1, "cut at \(cut)",
            sourceLocation: sourceLocation)
        if statistics.runFinished {
            #expect(
                statistics.heldAtEnd == 0 && statistics.badLines == 0, "cut at \(cut)",
                sourceLocation: sourceLocation)
        } else {
            #expect(statistics.badLines == 0, "cut at \(cut): held, not bad", sourceLocation: sourceLocation)
            if statistics.heldAtEnd > 0 { held += 1 }
        }
    }
    return held
}
