import Foundation
import TestSupport

extension FuzzTarget {
    /// Where the inputs that once broke this target's promises are checked in, each a regression test.
    public var regressionDirectory: String { Fixtures.path("fuzz/regressions/" + rawValue) }

    /// The inputs a fuzzing run starts from, named: the repository's own files of this kind (the first
    /// `maxBytes` of each, cut after a line end where there is one, since short inputs fuzz faster), the
    /// hand-made seeds in Tests/Fixtures/fuzz/seeds/TARGET, and every regression input.
    public func seeds(maxBytes: Int = 8192) -> [(name: String, bytes: [UInt8])] {
        var seeds = repositoryFiles.compactMap { path -> (String, [UInt8])? in
            guard let bytes = FileManager.default.contents(atPath: path).map(Array.init) else { return nil }
            return (Self.seedName(path), Self.cut(bytes, to: maxBytes))
        }
        if self == .wandb || self == .swanlab {
            // Record protobufs as they are (run and history records; start and scalar records), for the
            // framed harness.
            for path in repositoryFiles {
                let records = WandbLogEncoding.records(
                    of: FileManager.default.contents(atPath: path).map(Array.init) ?? [])
                for (index, data) in records.prefix(8).enumerated() where data.count < 4096 {
                    seeds.append((Self.seedName(path) + "_record\(index)", data))
                }
            }
        }
        if self == .tensorboard {
            // Event protobufs as they are, for the harness that frames its input as one record.
            for path in repositoryFiles {
                let records = Self.recordData(
                    FileManager.default.contents(atPath: path).map(Array.init) ?? [])
                for (index, data) in records.prefix(4).enumerated() {
                    seeds.append((Self.seedName(path) + "_event\(index)", data))
                }
            }
        }
        for directory in [Fixtures.path("fuzz/seeds/" + rawValue), regressionDirectory] {
            for path in Self.files(under: directory, where: { _ in true }) {
                let bytes = FileManager.default.contents(atPath: path).map(Array.init) ?? []
                seeds.append((Self.seedName(path), bytes))
            }
        }
        return seeds
    }

    /// The repository's logs, configs and themes this target's parser reads.
    private var repositoryFiles: [String] {
        let fixtures = Fixtures.root.path
        let root = Fixtures.packageRoot.path
        switch self {
        case .jsonl:
            return [fixtures + "/conformance", fixtures + "/edges", root + "/Examples"].flatMap {
                Self.files(under: $0, where: { $0.hasSuffix(".jsonl") })
            }
                + Self.files(
                    under: fixtures + "/experiments",
                    where: { $0.hasSuffix(".jsonl") || $0 == "progress.json" })
        case .csv:
            return [fixtures + "/formats", fixtures + "/experiments"].flatMap {
                Self.files(under: $0, where: { $0.hasSuffix(".csv") })
            }
        case .console:
            // The experiments' stdout.log files hold stable-baselines3's boxed tables and a TRL run's output.
            // textlogs: torchtune's DiskLogger file, ROLL's, slime's and SkyRL's output (a dict over lines).
            return Self.files(under: fixtures + "/formats/console", where: { $0.hasSuffix(".log") })
                + Self.files(under: fixtures + "/experiments", where: { $0 == "stdout.log" })
                + Self.files(
                    under: fixtures + "/formats/textlogs",
                    where: { $0.hasSuffix(".log") || $0.hasSuffix(".txt") })
        case .tensorboard:
            return Self.files(under: fixtures + "/formats/tensorboard", where: { $0.contains("tfevents") })
        case .trainerState:
            return Self.files(under: fixtures + "/formats/trl", where: { $0.hasSuffix("trainer_state.json") })
        case .wandb:
            return Self.files(under: fixtures + "/formats/wandb", where: { $0.hasSuffix(".wandb") })
        case .swanlab:
            return Self.files(under: fixtures + "/formats/swanlab", where: { $0.hasSuffix(".swanlab") })
        case .decompression:
            return Array(
                Self.files(under: fixtures + "/conformance", where: { $0.hasSuffix(".jsonl") }).prefix(4))
                + Array(Self.files(under: fixtures + "/edges", where: { $0.hasSuffix(".jsonl") }).prefix(8))
        case .formatDetection:
            let readers: [FuzzTarget] = [
                .jsonl, .csv, .console, .tensorboard, .trainerState, .wandb, .swanlab,
            ]
            return readers.flatMap(\.repositoryFiles)
        case .rlwatchConfig: return []
        case .theme: return Self.files(under: root + "/themes", where: { $0.hasSuffix(".yaml") })
        case .yaml:
            return FuzzTarget.theme.repositoryFiles
                + Self.files(under: Fixtures.path("fuzz/seeds/rlwatch-config"), where: { _ in true })
        case .mlflowMetricLines:
            return Self.files(under: fixtures + "/formats/mlflow/mlruns", where: { _ in true }).filter {
                $0.contains("/metrics/")
            }
        case .storeRows: return []  // Tests/Fixtures/fuzz/seeds/store-rows: the fixtures' rows
        case .remoteStream: return []  // Tests/Fixtures/fuzz/seeds/remote-stream: export --with-notes
        }
    }

    /// Files below `directory` (sorted, so that runs are repeatable) whose name passes `filter`.
    private static func files(under directory: String, where filter: (String) -> Bool) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                !isDirectory.boolValue,
                filter((relative as NSString).lastPathComponent), !relative.hasSuffix("README.md")
            {
                paths.append(path)
            }
        }
        return paths.sorted()
    }

    /// A file name for a seed: its path inside the package, flattened.
    private static func seedName(_ path: String) -> String {
        String(path.dropFirst(Fixtures.packageRoot.path.count + 1)).replacingOccurrences(of: "/", with: "_")
    }

    private static func cut(_ bytes: [UInt8], to maxBytes: Int) -> [UInt8] {
        guard bytes.count > maxBytes else { return bytes }
        let prefix = bytes.prefix(maxBytes)
        return Array(prefix.lastIndex(of: 0x0A).map { prefix[...$0] } ?? prefix)
    }

    /// The data of each TFRecord in an event file (read by the lengths, CRCs unchecked).
    private static func recordData(_ file: [UInt8]) -> [[UInt8]] {
        var records: [[UInt8]] = []
        var offset = 0
        while file.count - offset >= 12 {
            let length = file[offset..<(offset + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
            guard length >= 0, length <= file.count - offset - 16 else { break }
            records.append(Array(file[(offset + 12)..<(offset + 12 + length)]))
            offset += 16 + length
        }
        return records
    }
}
