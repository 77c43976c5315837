import Foundation
import TestSupport
import Testing

/// `Scripts/install.sh PREFIX` as a person runs it before copying kltop to a GPU machine: one binary that
/// needs no Swift toolchain, with its man page and completions; run with the toolchain out of reach.
///
/// The release build takes a few minutes on two cores: it runs once, niced so that the other tests keep
/// their pace, in a build folder of its own (`swift test` holds `.build`'s lock while tests run).
@Suite struct StaticBinaryTests {
    /// What every Linux that runs kltop has (glibc's parts, the C++ runtime, and the libraries kltop is
    /// built on), by soname.
    static let allowedLibraries: Set<String> = [
        "libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libstdc++.so.6",
        "libgcc_s.so.1", "libncursesw.so.6", "libtinfo.so.6", "libsqlite3.so.0", "libz.so.1", "libzstd.so.1",
        "libcurl.so.4", "libpthread.so.0", "libdl.so.2",
    ]

    struct Output {
        var status: Int32
        var text: String
        var errors: String
    }

    @discardableResult
    static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws
        -> Output
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        nonisolated(unsafe) var errorData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, text: String(decoding: data, as: UTF8.self),
            errors: String(decoding: errorData, as: UTF8.self))
    }

    /// The toolchain's folder (`/opt/swift/usr` for `/opt/swift/usr/bin/swift`), found as the tests' own
    /// runner links to it.
    static var toolchain: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") {
            let swift = URL(fileURLWithPath: String(directory)).appendingPathComponent("swift")
                .resolvingSymlinksInPath()
            if FileManager.default.isExecutableFile(atPath: swift.path) {
                return swift.deletingLastPathComponent().deletingLastPathComponent().path
            }
        }
        return nil
    }

    @Test func theInstalledBinaryRunsWithoutTheSwiftToolchain() throws {
        let prefix = try TemporaryDirectory.make("kltop-prefix")
        let scratch = Fixtures.packageRoot.appendingPathComponent(".build/install-test").path
        var environment = ProcessInfo.processInfo.environment
        environment["KLTOP_SCRATCH_PATH"] = scratch
        let install = try Self.run(
            "/usr/bin/nice",
            [
                "-n", "19", Fixtures.packageRoot.appendingPathComponent("Scripts/install.sh").path,
                prefix.path,
            ],
            environment: environment)
        let said = install.errors.split(separator: "\n")
        let complaints = said.filter { $0.contains("error") } + said.suffix(5)
        try #require(install.status == 0, "\(complaints.suffix(25).joined(separator: "\n"))")
        let binary = prefix.appendingPathComponent("bin/kltop").path
        let manual = prefix.appendingPathComponent("share/man/man1/kltop.1").path
        let bash = prefix.appendingPathComponent("share/bash-completion/completions/kltop").path
        let zsh = prefix.appendingPathComponent("share/zsh/site-functions/_kltop").path
        let fish = prefix.appendingPathComponent("share/fish/vendor_completions.d/kltop.fish").path
        for path in [binary, manual, bash, zsh, fish] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) not installed")
        }

        // The man page and completions are generated from the command-line definitions.
        let page = try String(contentsOfFile: manual, encoding: .utf8)
        #expect(page.contains(".Dt KLTOP 1") && page.contains("export") && page.contains("Fl -remote-kltop"))
        #expect(try Self.run("/bin/bash", ["-n", bash]).status == 0)
        #expect(try String(contentsOfFile: bash, encoding: .utf8).contains("_kltop"))
        #expect(try String(contentsOfFile: zsh, encoding: .utf8).hasPrefix("#compdef kltop"))
        #expect(try String(contentsOfFile: fish, encoding: .utf8).contains("complete -c 'kltop'"))

        // Only what every Linux has; nothing from the toolchain.
        let dynamic = try Self.run("/usr/bin/readelf", ["-d", binary]).text
        let needed = dynamic.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("(NEEDED)"), let open = line.firstIndex(of: "["),
                let close = line.lastIndex(of: "]")
            else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        #expect(!needed.isEmpty)
        #expect(Set(needed).subtracting(Self.allowedLibraries).isEmpty, "\(needed)")
        let toolchain = Self.toolchain
        if let toolchain {
            #expect(!dynamic.contains(toolchain), "a run path into the toolchain: \(dynamic)")
        }
        let ldd = try Self.run("/usr/bin/ldd", [binary]).text
        #expect(!ldd.contains("not found"), "\(ldd)")
        if let toolchain { #expect(!ldd.contains(toolchain), "\(ldd)") }
        let size = try FileManager.default.attributesOfItem(atPath: binary)[.size] as? Int ?? 0
        #expect(size > 0 && size <= 20 << 20, "\(size) bytes stripped")

        // check and export as the debug build gives them, with no library path and the toolchain hidden
        // (a tmpfs over it, where a mount namespace can be made; otherwise only off every path).
        let spike = Fixtures.path("conformance/spike_default.jsonl")
        let hidden = Self.hiddenToolchainLauncher(toolchain)
        let bare = ["PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": "", "LANG": "C.UTF-8"]
        let check = try Self.run(
            hidden.first!, Array(hidden.dropFirst()) + [binary, "check", spike], environment: bare)
        let expectedCheck = try Kltop.run(["check", spike])
        #expect(check.status == 2, "\(check.text)")
        #expect(check.text == expectedCheck.standardOutput && check.errors == expectedCheck.standardError)
        let export = try Self.run(
            hidden.first!, Array(hidden.dropFirst()) + [binary, "export", spike], environment: bare)
        #expect(export.status == 0)
        #expect(export.text == (try Kltop.run(["export", spike])).standardOutput)
        let version = try Self.run(binary, ["--version"], environment: bare)
        #expect(version.text.hasPrefix("kltop ") && version.status == 0)

        // The dashboard, in a terminal, and the terminal given back.
        let tmux = try TmuxSession(width: 80, height: 24)
        let launch = hidden.map { "'\($0)'" }.joined(separator: " ")
        try tmux.run("LD_LIBRARY_PATH= \(launch) \(binary) demo; echo EXIT=$?")
        #expect(tmux.waitForScreen(timeout: 20) { $0.joined().contains("healthy") }, "\(tmux.screen())")
        try tmux.press("q")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("EXIT=0") }, "\(tmux.screen())")
    }

    /// A command that runs what follows with the toolchain's folder replaced by an empty one (a private
    /// mount namespace), where this machine lets the tests make one (root); else `env` alone.
    static func hiddenToolchainLauncher(_ toolchain: String?) -> [String] {
        guard let toolchain, getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
            !toolchain.contains(where: { $0 == " " || $0 == "'" }),
            (try? run("/usr/bin/unshare", ["-m", "/bin/sh", "-c", "mount -t tmpfs none \(toolchain)"]))?
                .status == 0
        else { return ["/usr/bin/env"] }
        return [
            "/usr/bin/unshare", "-m", "/bin/sh", "-c", "mount -t tmpfs none \(toolchain) && exec \"$@\"",
            "hide-toolchain",
        ]
    }
}
