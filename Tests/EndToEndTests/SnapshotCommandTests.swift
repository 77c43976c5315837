import Foundation
import TestSupport
import Testing

/// `kltop snapshot`: one frame of the dashboard on standard output, for places without a terminal.
@Suite struct SnapshotCommandTests {
    static let conformance = Fixtures.root.appendingPathComponent("conformance")
    static let spike = conformance.appendingPathComponent("spike_default.jsonl").path
    static let utf8 = ["LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"]

    /// Not a terminal: plain text, exactly as many lines as asked, none wider, with the run, its banner,
    /// step ticks on the x axis, and the spike marked above the scale (it is an outlier).
    @Test func aPipeGetsThePlainFrameAtTheSizeAsked() throws {
        let result = try Kltop.run(["snapshot", "--size", "80x24", Self.spike], environment: Self.utf8)
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 24)
        #expect(lines.allSatisfy { $0.unicodeScalars.count <= 80 })
        #expect(!result.standardOutput.contains("\u{1B}"), "no escape sequence in plain text")
        let text = result.standardOutput
        #expect(text.contains("● spike_default"), "\(text)")
        #expect(text.contains("CRITICAL spike_default step"), "\(text)")
        #expect(text.contains("┴0") && text.contains("┴100"), "step ticks: \(text)")
        #expect(text.contains("▲"), "the spike, marked above the scale: \(text)")
    }

    /// `--color always`: ANSI colours from the theme, the band shaded (the default theme's 236), each line
    /// ending in a reset; NO_COLOR does not override an explicit `always`.
    @Test func colorAlwaysWritesTheThemesColoursWithTheShadedBand() throws {
        var environment = Self.utf8
        environment["NO_COLOR"] = "1"
        let result = try Kltop.run(
            ["snapshot", "--size", "100x30", "--color", "always", Self.spike], environment: environment)
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 30)
        #expect(lines.allSatisfy { $0.hasSuffix("\u{1B}[0m") })
        #expect(result.standardOutput.contains(";48;5;236m"), "the band's shade")
        #expect(result.standardOutput.contains("38;5;196"), "the critical point's colour")
        let ascii = try Kltop.run(
            ["snapshot", "--size", "100x30", "--glyphs", "ascii", "--color", "never", Self.spike],
            environment: Self.utf8)
        #expect(ascii.standardOutput.unicodeScalars.allSatisfy { $0.isASCII }, "\(ascii.standardOutput)")
    }

    @Test(arguments: [
        (["--size", "80"], "--size"), (["--size", "5x5"], "--size"), (["--size", "axb"], "--size"),
        (["--color", "sometimes"], "--color"),
        (["--theme", "no-such-theme"], "no-such-theme: no such theme"),
    ])
    func badOptionsAreClearErrors(options: [String], message: String) throws {
        let result = try Kltop.run(["snapshot"] + options + [Self.spike], environment: Self.utf8)
        #expect(result.status == 3)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }

    /// A path that is not there: the frame still comes (with the runs that could be read), the path is
    /// said on stderr, and the status is 3, as `check` gives.
    @Test func aMissingLogIsAnErrorAfterTheFrame() throws {
        let result = try Kltop.run(
            ["snapshot", "--size", "80x24", "/nonexistent/run.jsonl", Self.spike], environment: Self.utf8)
        #expect(result.status == 3)
        #expect(
            result.standardError.contains("/nonexistent/run.jsonl: no such file"), "\(result.standardError)")
        #expect(result.standardOutput.contains("spike_default"), "\(result.standardOutput)")
        #expect(result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).count == 25)
    }
}
