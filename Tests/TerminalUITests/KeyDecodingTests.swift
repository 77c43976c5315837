import CNCurses
import Testing

@testable import Dashboard
@testable import TerminalUI

#if canImport(Glibc)
    import Glibc
#endif

extension PainterTests {
    /// What `Terminal.read` makes of the bytes a terminal sends for the keys that move focus: real ncurses
    /// reading them from a pipe, as it reads a terminal. Inside ``PainterTests`` so that it runs serialized
    /// with it: ncurses has one current screen per process.
    @Suite struct KeyDecodingTests {
        /// The input `bytes` decode to, read until none is waiting, on a terminal of `terminalType`.
        static func inputs(_ bytes: String, terminalType: String = "xterm-256color") throws -> [TerminalInput]
        {
            var ends: [Int32] = [-1, -1]
            try #require(pipe(&ends) == 0)
            let written = Array(bytes.utf8).withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
            close(ends[1])
            try #require(written == bytes.utf8.count)
            let input = try #require(fdopen(ends[0], "r"))
            let output = try #require(fopen("/dev/null", "w"))
            defer {
                fclose(input)
                fclose(output)
            }
            let terminal = try Terminal(
                theme: .standard, colors: nil, terminalType: terminalType, output: output, input: input)
            defer { terminal.restore() }
            // ncurses tells a lone escape from a sequence's start by a pause (1 s unless told): the pipe
            // holds everything already, so a short one is enough.
            set_escdelay(25)
            var inputs: [TerminalInput] = []
            while let input = terminal.read() { inputs.append(input) }
            return inputs
        }

        @Test(arguments: ["xterm-256color", "screen-256color", "xterm"])
        func tabAndShiftTabAreTheFocusKeys(terminalType: String) throws {
            #expect(try Self.inputs("\t", terminalType: terminalType) == [.key(.tab)])
            #expect(try Self.inputs("\u{1B}[Z", terminalType: terminalType) == [.key(.backTab)])
            #expect(
                try Self.inputs("\t\u{1B}[Zq\t", terminalType: terminalType)
                    == [.key(.tab), .key(.backTab), .key(.character("q")), .key(.tab)])
        }

        /// kltop turns keypad mode on, and the terminal then sends the cursor keys as terminfo names them
        /// (`\eOA` for xterm); keys typed before that, or by a terminal that ignores the request, come as
        /// `\e[A`. Both must be arrows: `\e[A` read as escape, `[`, `A` shrank the rolling window.
        @Test(arguments: [
            ("\u{1B}O", "xterm-256color"), ("\u{1B}[", "xterm-256color"), ("\u{1B}O", "screen-256color"),
            ("\u{1B}[", "screen-256color"), ("\u{1B}[", "linux"),
        ])
        func arrowsAreArrowsInEitherCursorMode(prefix: String, terminalType: String) throws {
            let arrows = ["A", "B", "C", "D"].map { prefix + $0 }
            #expect(
                try Self.inputs(arrows.joined(), terminalType: terminalType)
                    == [.key(.up), .key(.down), .key(.right), .key(.left)])
            #expect(
                try Self.inputs(arrows[1] + "[" + arrows[0], terminalType: terminalType)
                    == [.key(.down), .key(.character("[")), .key(.up)])
        }

        /// Home and End change with the cursor mode as the arrows do (on xterm).
        @Test(arguments: ["\u{1B}O", "\u{1B}["])
        func homeAndEndAreHomeAndEndInEitherCursorMode(prefix: String) throws {
            #expect(try Self.inputs(prefix + "H" + prefix + "F") == [.key(.home), .key(.end)])
        }

        /// tmux's Home and End, and function keys kltop has no use for, whichever the terminfo lists: never
        /// escape plus the sequence's bytes as keys (`[` shrinks the rolling window).
        @Test func sequencesTheTerminfoDoesNotListAreOneKeyOrNone() throws {
            #expect(try Self.inputs("\u{1B}[1~\u{1B}[4~") == [.key(.home), .key(.end)])
            #expect(try Self.inputs("\u{1B}[15~q") == [.key(.character("q"))])
            #expect(
                try Self.inputs("\u{1B}[1;5Pq\u{1B}OPq") == [.key(.character("q")), .key(.character("q"))])
            #expect(try Self.inputs("\u{1B}q") == [.key(.escape), .key(.character("q"))])
        }

        @Test func aLoneEscapeIsTheEscapeKey() throws {
            #expect(try Self.inputs("\u{1B}") == [.key(.escape)])
            #expect(try Self.inputs("\u{1B}[") == [.key(.escape), .key(.character("["))])
        }
    }
}
