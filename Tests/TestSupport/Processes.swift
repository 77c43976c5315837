import Foundation

/// Runs the built `kltop` binary and collects what it printed.
public enum Kltop {
    /// The binary `swift build` / `swift test` put beside the test bundle: on Linux the test runner is an
    /// executable in the same folder, which is how a sanitized build (`--scratch-path .build-tsan`) tests
    /// its own sanitized `kltop`, not the plain debug build's.
    public static var executable: URL {
        let bundleDirectory = Bundle.main.bundleURL.deletingLastPathComponent()
        var directories = [bundleDirectory, bundleDirectory.deletingLastPathComponent()]
        if let runner = Bundle.main.executableURL {
            directories.insert(runner.deletingLastPathComponent(), at: 0)
        }
        for directory in directories {
            let candidate = directory.appendingPathComponent("kltop")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return Fixtures.packageRoot.appendingPathComponent(".build/debug/kltop")
    }

    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String

        public init(status: Int32, standardOutput: String, standardError: String) {
            self.status = status
            self.standardOutput = standardOutput
            self.standardError = standardError
        }
    }

    /// Runs `kltop arguments...` in `directory` (a fresh temporary one by default, so that no rlwatch.yaml
    /// lying around changes the settings) and waits for it. `launcher` runs kltop through another program
    /// (`["/usr/bin/setpriv", "--reuid=65534", ...]`).
    /// How to start kltop so that file permissions apply to it: nothing for a user that is not root; as root,
    /// `setpriv` to `nobody`. Nil when that cannot start kltop (no `setpriv`, or a build folder nobody can
    /// reach, as a clone under /root): a permission test then has nothing to learn.
    public static func unprivilegedLauncher(in directory: URL) throws -> [String]? {
        guard getuid() == 0 else { return [] }
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { return nil }
        let launcher = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        guard try run(["--help"], in: directory, launcher: launcher).status == 0 else { return nil }
        return launcher
    }

    public static func run(
        _ arguments: [String], in directory: URL? = nil, input: Data? = nil,
        environment: [String: String]? = nil, launcher: [String] = []
    ) throws -> Result {
        let process = Process()
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = launcher.dropFirst() + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.currentDirectoryURL = try directory ?? TemporaryDirectory.make()
        if let environment { process.environment = environment }
        let output = Pipe()
        let error = Pipe()
        let inputPipe = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(input)
            try inputPipe.fileHandleForWriting.close()
        }
        // Read both pipes concurrently with the process so a full pipe never blocks it.
        nonisolated(unsafe) var outputData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outputData = output.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }
}

/// Temporary directories that tests write into.
public enum TemporaryDirectory {
    public static func make(_ label: String = "kltop-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
