import Dashboard
import Foundation
import Testing

/// Compares rendered grids with golden text files in `Snapshots/`.
///
/// A missing golden fails the test, unless `KLTOP_RECORD_SNAPSHOTS` is set: `1` writes missing goldens,
/// `all` rewrites every golden (after a deliberate change of the look; review the diff before committing).
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Snapshots")

    /// The grid's text, and with `roles` a second block of one letter per cell for its colour role.
    static func text(_ grid: Grid, roles: Bool) -> String {
        var lines = grid.textLines()
        if roles {
            lines.append(
                "--- roles (\(ColorRole.allCases.map { "\($0.letter)=\($0.rawValue)" }.joined(separator: " ")))"
            )
            lines += grid.roleLines()
            let backdrops = (0..<grid.height).map { y in
                String((0..<grid.width).map { x in grid[x, y].backdrop?.letter ?? "." })
            }
            if backdrops.contains(where: { $0.contains { $0 != "." } }) {
                lines.append("--- backdrops (the background role behind a cell's glyph, . for none)")
                lines += backdrops
            }
            let reversed = (0..<grid.height).map { y in
                String((0..<grid.width).map { x in grid[x, y].attributes.contains(.reverse) ? "R" : "." })
            }
            if reversed.contains(where: { $0.contains("R") }) {
                lines.append("--- reverse video (R)")
                lines += reversed
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func assertMatches(
        _ grid: Grid, named name: String, roles: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let url = directory.appendingPathComponent(name + ".txt")
        let actual = text(grid, roles: roles)
        let mode = ProcessInfo.processInfo.environment["KLTOP_RECORD_SNAPSHOTS"]
        let existing = try? String(contentsOf: url, encoding: .utf8)
        if mode == "all" || (existing == nil && mode != nil && !(mode ?? "").isEmpty) {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try actual.write(to: url, atomically: true, encoding: .utf8)
            } catch {
                Issue.record("could not record \(url.path): \(error)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let existing else {
            Issue.record(
                "no golden \(url.lastPathComponent); run with KLTOP_RECORD_SNAPSHOTS=1 to record it:\n\(actual)",
                sourceLocation: sourceLocation)
            return
        }
        guard existing != actual else { return }
        let expectedLines = existing.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var report = ["\(url.lastPathComponent) differs (KLTOP_RECORD_SNAPSHOTS=all rewrites it):"]
        for index in 0..<max(expectedLines.count, actualLines.count) {
            let expected = index < expectedLines.count ? String(expectedLines[index]) : "<none>"
            let got = index < actualLines.count ? String(actualLines[index]) : "<none>"
            if expected != got {
                report += ["line \(index + 1):", "  expected |\(expected)|", "  actual   |\(got)|"]
            }
        }
        Issue.record(Comment(rawValue: report.joined(separator: "\n")), sourceLocation: sourceLocation)
    }
}
