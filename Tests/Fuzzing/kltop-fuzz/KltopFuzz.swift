import Foundation
import FuzzHarnesses

#if FUZZING
    import CLibFuzzer

    // Built by Scripts/fuzz.sh with -sanitize=fuzzer,address -DFUZZING: main hands over to libFuzzer, which
    // calls the harness named by KLTOP_FUZZ_TARGET on every input it makes up (its command line is its
    // own). A broken promise traps, so that libFuzzer keeps the input.
    //
    // Why main is ours and not libFuzzer's: on Linux SwiftPM links an executable with its entry point
    // renamed (`main` defined as `kltop_fuzz_main`, so that tests can link executables), which must exist;
    // so kltop-fuzz keeps a main in both builds and calls libFuzzer's driver from it.

    /// The harness to run, named by KLTOP_FUZZ_TARGET.
    private let target: FuzzTarget = {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        guard let name = ProcessInfo.processInfo.environment["KLTOP_FUZZ_TARGET"],
            let target = FuzzTarget(rawValue: name)
        else { fatalError("set KLTOP_FUZZ_TARGET to one of: \(names)") }
        return target
    }()

    @main
    struct KltopFuzz {
        static func main() {
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            _ = target  // an unknown name stops here, before libFuzzer starts
            exit(
                LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                    do {
                        try target.run(Array(UnsafeBufferPointer(start: data, count: size)))
                    } catch {
                        fatalError("\(target.rawValue): \(error)")
                    }
                    return 0
                })
        }
    }
#else
    /// `kltop-fuzz TARGET FILE|DIR...` replays inputs through a harness (a crash found by `Scripts/fuzz.sh`,
    /// say); `kltop-fuzz seeds TARGET DIR` writes the target's seed corpus into DIR; `kltop-fuzz targets`
    /// lists the targets.
    @main
    struct KltopFuzz {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            switch arguments.first {
            case "targets":
                print(FuzzTarget.allCases.map(\.rawValue).joined(separator: "\n"))
            case "seeds" where arguments.count == 3:
                let target = targetNamed(arguments[1])
                for seed in target.seeds() {
                    let path = arguments[2] + "/" + seed.name
                    guard FileManager.default.createFile(atPath: path, contents: Data(seed.bytes)) else {
                        fail("cannot write \(path)")
                    }
                }
            case let name? where arguments.count >= 2:
                replay(targetNamed(name), paths: Array(arguments.dropFirst()))
            default:
                fail(
                    "usage: kltop-fuzz TARGET FILE|DIR... | kltop-fuzz seeds TARGET DIR | kltop-fuzz targets")
            }
        }

        /// Runs every file through the harness, saying which break a promise; exits 1 if any does.
        static func replay(_ target: FuzzTarget, paths: [String]) {
            var files: [String] = []
            for path in paths {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    fail("no such file: \(path)")
                }
                if isDirectory.boolValue {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                    files += names.sorted().map { path + "/" + $0 }
                } else {
                    files.append(path)
                }
            }
            var failures = 0
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    fail("cannot read \(file)")
                }
                do {
                    try target.run(Array(data))
                } catch {
                    failures += 1
                    print("\(file): \(error)")
                }
            }
            print("\(target.rawValue): \(files.count - failures) of \(files.count) inputs keep every promise")
            if failures > 0 { exit(1) }
        }

        static func targetNamed(_ name: String) -> FuzzTarget {
            guard let target = FuzzTarget(rawValue: name) else {
                fail(
                    "no target \(name); the targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            return target
        }

        static func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data(("kltop-fuzz: " + message + "\n").utf8))
            exit(2)
        }
    }
#endif
