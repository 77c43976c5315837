import ArgumentParser
import Dashboard
import KltopKit
import LogFollowing
import TerminalUI

#if canImport(Glibc)
    import Glibc
#endif

/// `kltop snapshot PATH...`: one frame of the dashboard on standard output, after reading every log to its
/// end — for a CI log, a cron mail, a message: places with no terminal to drive.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Print one frame of the dashboard, after reading every log to its end.",
        discussion: """
            The frame is the dashboard's own render at --size. With colours (ANSI escape sequences) when \
            standard output is a terminal or --color always; plain text otherwise, and always when NO_COLOR \
            is set (unless --color always). Exit status 3 when a path could not be read (said on stderr; \
            the frame is printed all the same), else 0.
            """
    )

    @OptionGroup var detector: DetectorOptions
    @OptionGroup var sources: SourceFlags

    @Option(help: ArgumentHelp("The frame's size in columns and rows.", valueName: "COLSxROWS"))
    var size = FrameSize(columns: 120, rows: 40)

    @Option(help: "Colours: auto (when standard output is a terminal), always, never.")
    var color: ColorChoice = .auto

    @Option(
        help: ArgumentHelp(
            "A theme name (\(Theme.builtInNames.joined(separator: ", "))) or a theme file.",
            valueName: "name|path"))
    var theme = "default"

    @Option(
        help: ArgumentHelp(
            "Plot glyphs: braille, blocks or ascii. (default: braille in a UTF-8 locale, else ascii)",
            valueName: "set"))
    var glyphs: LookOptions.GlyphSetArgument?

    @Argument(
        help: ArgumentHelp(
            "Run logs: files, directories, globs, or - for standard input.",
            discussion: SourceFlags.formatsHelp))
    var paths: [String] = []

    enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    struct FrameSize: ExpressibleByArgument, CustomStringConvertible {
        var columns: Int
        var rows: Int

        init(columns: Int, rows: Int) {
            self.columns = columns
            self.rows = rows
        }

        /// `120x40` (or `120×40`), 20 to 1000 columns and 6 to 500 rows.
        init?(argument: String) {
            let parts = argument.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" })
            guard parts.count == 2, let columns = Int(parts[0]), let rows = Int(parts[1]),
                (20...1000).contains(columns), (6...500).contains(rows)
            else { return nil }
            self.init(columns: columns, rows: rows)
        }

        var description: String { "\(columns)x\(rows)" }
        static var defaultCompletionKind: CompletionKind { .default }
    }

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name the run logs to draw (or - for standard input)") }
        try sources.validate(paths: paths)
    }

    func run() throws {
        let settings = try detector.resolveOrExit()
        let loaded: Theme
        do {
            loaded = try Theme.load(nameOrPath: theme)
        } catch {
            FileHandleOutput.standardError("kltop: \(error.description)")
            throw ExitCode(3)
        }
        let utf8 = Terminal.localeIsUTF8
        var glyphSet: GlyphSet = utf8 ? .braille : .ascii
        switch glyphs {
        case .blocks?: glyphSet = utf8 ? .blocks : .ascii
        case .ascii?: glyphSet = .ascii
        case .braille?, nil: break
        }
        let depth = Self.depth(for: color)
        var state = DashboardState(
            settings: settings.detector, policy: settings.policy,
            options: ViewOptions(
                glyphs: glyphSet, shadesBand: glyphSet != .ascii && loaded.shadesTheBand(at: depth)))
        _ = update(&state, .resized(width: size.columns, height: size.rows))
        let options = sources.followOptions(metric: settings.metric)
        var problems: [String] = []
        SourceDriver.readToEnd(paths, options: options) { event in
            if case .notice(_, let notice) = event, let problem = notice.problemWhenReadingToTheEnd {
                problems.append("\(TerminalText.inert(notice.path)): \(TerminalText.inert(problem))")
            }
            for translated in DashboardEvent.translating(event) { _ = update(&state, translated) }
        }
        _ = update(&state, .tick(time: SourceDriver.monotonicSeconds()))
        let frame = render(state, width: size.columns, height: size.rows)
        for line in frame.ansiLines(theme: loaded, depth: depth) { FileHandleOutput.standardOutput(line) }
        // The frame shows what it could; a path it could not read is an error, as for `check`.
        for problem in problems { FileHandleOutput.standardError("kltop: \(problem)") }
        if !problems.isEmpty { throw ExitCode(3) }
    }

    /// auto: colours on a terminal unless NO_COLOR is set, 256 of them where TERM or COLORTERM says so.
    static func depth(for choice: ColorChoice) -> ColorDepth {
        let environment = { (name: String) in getenv(name).map { String(cString: $0) } ?? "" }
        switch choice {
        case .never: return .none
        case .always: return .colors256
        case .auto:
            guard isatty(STDOUT_FILENO) == 1, environment("NO_COLOR").isEmpty else { return .none }
            let term = environment("TERM")
            if term == "dumb" || term.isEmpty { return .none }
            return term.contains("256") || !environment("COLORTERM").isEmpty ? .colors256 : .colors8
        }
    }
}
