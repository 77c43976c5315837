import Foundation
import TestSupport
import Testing

/// A log or a log folder kltop may not read gets a clear message and exit status 3. As root every file is
/// readable, so there kltop runs as the unprivileged user `nobody` (through `setpriv`).
@Suite struct PermissionTests {
    @Test func unreadableFilesAndFoldersAreSaidAndCannotBeChecked() throws {
        let root = try TemporaryDirectory.make("kltop-permissions")
        let locked = root.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        let line = Data("{\"step\": 1, \"kl\": 0.1}\n".utf8)
        try line.write(to: locked.appendingPathComponent("a.jsonl"))
        let secret = root.appendingPathComponent("secret.jsonl")
        try line.write(to: secret)
        chmod(locked.path, 0o700)
        chmod(secret.path, 0o600)
        defer { chmod(locked.path, 0o755) }
        chmod(root.path, 0o755)

        let arguments = ["check", locked.path, secret.path]
        guard let launcher = try Kltop.unprivilegedLauncher(in: root) else { return }
        if launcher.isEmpty {
            chmod(locked.path, 0o000)
            chmod(secret.path, 0o000)
        }
        let result = try Kltop.run(arguments, in: root, launcher: launcher)
        #expect(result.status == 3)
        #expect(result.standardError.contains("\(locked.path): permission denied"))
        #expect(result.standardError.contains("\(secret.path): permission denied"))
        #expect(!result.standardError.contains("no run logs"), "a folder kltop cannot list is not empty")
    }
}
