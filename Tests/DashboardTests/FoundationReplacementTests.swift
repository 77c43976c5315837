import Foundation
import Testing

@testable import Dashboard

/// What Dashboard does without Foundation now gives what Foundation gave it.
@Suite struct DashboardFoundationReplacementTests {
    @Test func tildesExpandAsNSStringExpandedThem() {
        for path in [
            "~", "~/themes/mine.yaml", "~root/x.yaml", "~nosuchuser-kltop/x.yaml", "/abs/~/x", "rel.yaml",
        ] {
            #expect(Theme.expandingTilde(path) == (path as NSString).expandingTildeInPath, "\(path)")
        }
    }

    @Test func theSearchDirectoriesAreThoseBesideTheExecutableAndThePackages() {
        let executable = Bundle.main.executableURL!.resolvingSymlinksInPath().deletingLastPathComponent()
        #expect(
            Theme.defaultSearchDirectories == [
                executable.appendingPathComponent("themes").path,
                executable.appendingPathComponent("../share/kltop/themes").standardized.path,
                Theme.packageThemesDirectory,
            ])
        let expected = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("themes").path
        #expect(Theme.packageThemesDirectory == expected)
        #expect(Theme.parent(of: "/a") == "/" && Theme.parent(of: "/a/b/c") == "/a/b")
    }

    /// The run filter matches as Foundation's case-insensitive search matched, for the names runs have (an
    /// empty filter shows every run before it is searched for).
    @Test func theRunFilterIgnoresCaseAsFoundationDid() {
        let pairs = [
            ("ppo-Seed1", "seed"), ("PPO", "ppo"), ("grpo_run", "RUN"), ("Straße", "STRASSE"), ("Ärger", "ä"),
            ("run", "x"), ("ΣΊΣΥΦΟΣ", "σίσυφος"),
        ]
        for (name, filter) in pairs {
            #expect(
                name.containsIgnoringCase(filter) == name.localizedCaseInsensitiveContains(filter),
                "\(name) \(filter)")
        }
    }
}
