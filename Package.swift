// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "kltop",
    products: [
        /// The KL-explosion detector on its own, for Swift programs that want rlwatch's decisions without kltop.
        .library(name: "KLDetector", targets: ["KLDetector"]),
        .executable(name: "kltop", targets: ["kltop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // Pure z-score detector and alert policy: no I/O, no dependencies.
        .target(name: "KLDetector"),
        // Bytes of run logs -> plain records (step, value), decompressed where they are compressed. No terminal,
        // no detector.
        .target(name: "RunLogs", dependencies: ["CNumbers", "CSQLite", "CZlib", "CZstd"]),
        // The system's SQLite, to read rlwatch's metrics.db.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // The system's zlib and libzstd, to read gzip- and zstd-compressed logs.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", providers: [.apt(["libzstd-dev"])]),
        // strtod in the C locale (glibc's strtod_l is not visible to Swift).
        .target(name: "CNumbers"),
        // Follows files, directories, globs and standard input by name, as tail -F does, feeding readers.
        .target(name: "LogFollowing", dependencies: ["RunLogs"]),
        // Wires readers to the detector: per-run checking, rlwatch.yaml, alert formatting, and the delivery
        // of alerts to Slack, Discord, webhooks, email and commands (Delivery/).
        .target(
            name: "KltopKit",
            dependencies: [
                "KLDetector", "RunLogs", "LogFollowing", "CCurl", "YAMLNodes",
            ]),
        // YAML text -> a tree of mappings, sequences and scalars with their lines, aliases resolved (bounded):
        // what rlwatch.yaml and themes are read from. Typing scalars is the reader's business (PyYAMLScalar).
        .target(name: "YAMLNodes", dependencies: ["CYaml"]),
        // libyaml's parser, vendored (Sources/CYaml/README.md says why).
        .target(
            name: "CYaml", exclude: ["LICENSE", "README.md"], cSettings: [.define("YAML_DECLARE_STATIC")]),
        // The system's libcurl, to deliver alerts: HTTP for Slack, Discord and webhooks, SMTP for email.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The dashboard's pure core: state, update(event), render(state, size) -> grid of cells, themes.
        .target(
            name: "Dashboard",
            dependencies: [
                "KLDetector", "KltopKit", "LogFollowing", "RunLogs", "YAMLNodes",
            ]),
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses", providers: [.apt(["libncurses-dev"])]),
        // The one thin layer that talks to ncurses: paints grids, reads keys, restores the terminal.
        .target(name: "TerminalUI", dependencies: ["CNCurses", "Dashboard"]),
        .executableTarget(
            name: "kltop",
            dependencies: [
                "KltopKit", "Dashboard", "TerminalUI", "LogFollowing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `swift run -c release kltop-bench`: prints figures, asserts nothing.
        .executableTarget(
            name: "kltop-bench",
            dependencies: ["KLDetector", "RunLogs", "KltopKit", "Dashboard", "CSQLite", "TestSupport"]),
        // Fixture paths, rlwatch's expected decisions, running the built binary.
        .target(name: "TestSupport", dependencies: ["CZlib", "CZstd"], path: "Tests/TestSupport"),
        .testTarget(name: "KLDetectorTests", dependencies: ["KLDetector", "TestSupport"]),
        .testTarget(name: "RunLogsTests", dependencies: ["RunLogs", "CSQLite", "TestSupport"]),
        .testTarget(
            name: "LogFollowingTests", dependencies: ["LogFollowing", "RunLogs", "CSQLite", "TestSupport"]),
        .testTarget(name: "KltopKitTests", dependencies: ["KltopKit", "TestSupport"]),
        .testTarget(name: "YAMLNodesTests", dependencies: ["YAMLNodes"]),
        .testTarget(
            name: "DashboardTests", dependencies: ["Dashboard", "TestSupport"], exclude: ["Snapshots"]),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI", "Dashboard", "CNCurses"]),
        .testTarget(name: "EndToEndTests", dependencies: ["kltop", "TestSupport", "CSQLite"]),
        // Fuzzing: a harness per parser, checking what must hold for every input; the program that runs
        // them (under libFuzzer when Scripts/fuzz.sh builds it with -DFUZZING, replaying inputs otherwise);
        // and the tests that run every checked-in regression input and seed through them.
        .target(
            name: "FuzzHarnesses",
            dependencies: ["RunLogs", "KltopKit", "KLDetector", "Dashboard", "TestSupport", "YAMLNodes"],
            path: "Tests/Fuzzing/Harnesses"),
        .executableTarget(
            name: "kltop-fuzz", dependencies: ["FuzzHarnesses", "CLibFuzzer"],
            path: "Tests/Fuzzing/kltop-fuzz"),
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzzing/CLibFuzzer"),
        .testTarget(name: "FuzzingTests", dependencies: ["FuzzHarnesses", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
