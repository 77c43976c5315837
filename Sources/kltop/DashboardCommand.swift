import ArgumentParser
import Dashboard
import KLDetector
import KltopKit
import LogFollowing
import RunLogs
import TerminalUI

#if canImport(Glibc)
    import Glibc
#endif

/// How the dashboard looks: shared by `kltop PATH...` and `kltop demo`.
struct LookOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A theme name (\(Theme.builtInNames.joined(separator: ", "))) or a theme file.",
            valueName: "name|path"))
    var theme = "default"

    @Flag(name: .customLong("no-color"), help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    @Flag(help: "Plain ASCII glyphs, for terminals and fonts without braille or block characters.")
    var ascii = false

    @Option(
        help: ArgumentHelp(
            "Plot glyphs: braille (2×4 dots a cell), blocks or ascii. (default: braille in a UTF-8 locale, else ascii)",
            valueName: "set"))
    var glyphs: GlyphSetArgument?

    @Flag(help: "Ring the terminal bell when an alert is delivered.")
    var bell = false

    enum GlyphSetArgument: String, ExpressibleByArgument {
        case braille, blocks, ascii
    }

    /// Starts the terminal with the theme and colours asked for, and the glyphs the locale can show.
    func startTerminal(settings: ResolvedSettings) throws -> (Terminal, DashboardState) {
        let theme: Theme
        do {
            theme = try Theme.load(nameOrPath: self.theme)
        } catch {
            FileHandleOutput.standardError("kltop: \(error.description)")
            throw ExitCode(3)
        }
        let noColorRequested = noColor || (getenv("NO_COLOR").map { $0.pointee != 0 } ?? false)
        let terminal: Terminal
        do {
            terminal = try Terminal(theme: theme, colors: noColorRequested ? ColorDepth.none : nil)
        } catch {
            FileHandleOutput.standardError("kltop: \(error.description)")
            throw ExitCode(3)
        }
        var glyphSet: GlyphSet = terminal.isUTF8 ? .braille : .ascii
        if let glyphs {
            switch glyphs {
            case .braille: glyphSet = terminal.isUTF8 ? .braille : .ascii
            case .blocks: glyphSet = terminal.isUTF8 ? .blocks : .ascii
            case .ascii: glyphSet = .ascii
            }
        }
        if ascii { glyphSet = .ascii }
        // ASCII is for terminals that can show little: the band is drawn with `:` there, as without colour.
        let shadesBand = glyphSet != .ascii && theme.shadesTheBand(at: terminal.colorDepth)
        let options = ViewOptions(glyphs: glyphSet, shadesBand: shadesBand)
        let state = DashboardState(settings: settings.detector, policy: settings.policy, options: options)
        return (terminal, state)
    }
}

/// `kltop [options] PATH...`: the live dashboard.
struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "The live dashboard (the default command: `kltop PATH...`).",
        discussion: """
            Keys: q quit, ? help, p pause, tab/arrows focus, + - sigma, [ ] window, b rolling/frozen, \
            w warmup, l log scale, y outliers in/out of the scale, s smoothing, x zoom, i inspect cursor, \
            a acknowledge, o overlay/stacked, h alert history.
            """
    )

    @OptionGroup var detector: DetectorOptions
    @OptionGroup var look: LookOptions
    @OptionGroup var sources: SourceFlags
    @OptionGroup var alerts: AlertFlags

    @Argument(
        help: ArgumentHelp(
            "Run logs: files, directories, globs, or - for standard input.",
            discussion: SourceFlags.formatsHelp))
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty {
            throw ValidationError("name the run logs to watch (or try `kltop demo`)")
        }
        try sources.validate(paths: paths)
    }

    func run() throws {
        let settings = try detector.resolveOrExit()
        let options = sources.followOptions(metric: settings.metric)
        Terminal.adoptTheUsersLocale()  // before the reader thread exists
        // Started before the terminal, so that a failure to start it is said on a terminal in its normal mode.
        let reader: BackgroundFollower
        do {
            reader = try BackgroundFollower(arguments: paths, options: options)
        } catch {
            FileHandleOutput.standardError("kltop: \(error.description)")
            throw ExitCode(3)
        }
        let courier = try alerts.courier(settings)
        var (terminal, state) = try look.startTerminal(settings: settings)
        state.options.alertChannels = courier?.channelNames ?? []
        defer { terminal.restore() }
        var reports = DashboardSession.run(
            state: state, source: .logs(reader), terminal: terminal, bell: look.bell, courier: courier)
        terminal.restore()
        reader.stop()
        // What the delivery thread said while the screen was the dashboard's, and what it could not send.
        if let courier {
            courier.finish(within: 5)
            reports += courier.takeReports()
            for report in reports { FileHandleOutput.standardError(report.line) }
        }
        Interruption.endAsSignalled()
    }
}

/// `kltop demo`: the dashboard on simulated runs, generated live.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The dashboard on simulated runs: healthy, a spike, slow drift, bursty PPO, an explosion.",
        // ArgumentParser shortens a long option list to "<options>", which reads as if options were required.
        usage: "kltop demo [<options>]",
        discussion: "Tune with + - [ ] b w and watch the band and the alerts change on the whole history."
    )

    @OptionGroup var detector: DetectorOptions
    @OptionGroup var look: LookOptions

    @Option(
        parsing: .unconditional, help: ArgumentHelp("Simulated steps per second per run.", valueName: "n"))
    var speed: Double = 20

    func validate() throws {
        if !(speed > 0 && speed <= 100_000) {
            throw ValidationError("--speed takes steps per second between 0 and 100000")
        }
    }

    func run() throws {
        let settings = try detector.resolveOrExit()
        let (terminal, state) = try look.startTerminal(settings: settings)
        defer { terminal.restore() }
        DashboardSession.run(
            state: state, source: .demo(DemoRuns(stepsPerSecond: speed)), terminal: terminal, bell: look.bell)
        terminal.restore()
        Interruption.endAsSignalled()
    }
}
