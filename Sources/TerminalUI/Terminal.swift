import CNCurses
import Dashboard

#if canImport(Glibc)
    import Glibc
#endif

/// Why the dashboard could not take over the terminal.
public enum TerminalError: Error, CustomStringConvertible, Sendable {
    case notATerminal
    case cannotStart(String)
    /// The terminal type has no cursor addressing (`TERM=dumb`, an editor's shell buffer).
    case cannotMoveTheCursor(terminalType: String)

    public var description: String {
        switch self {
        case .notATerminal:
            "the dashboard needs a terminal (stdout is not one); for pipes and scripts use kltop check or kltop export"
        case .cannotStart(let reason): "cannot start the terminal: \(reason)"
        case .cannotMoveTheCursor(let type):
            "the dashboard needs a terminal that can move the cursor, and TERM=\(type) cannot; set TERM to "
                + "your terminal's type (xterm-256color, screen-256color, ...), or use kltop check or kltop export"
        }
    }
}

/// What the user did at the keyboard, or to the window.
public enum TerminalInput: Equatable, Sendable {
    case key(Key)
    case resized(width: Int, height: Int)
}

/// The one place kltop talks to ncurses: takes over the terminal, paints grids, reads keys, gives the
/// terminal back.
///
/// Painting is economical twice over: only the cells that differ from the last painted grid are drawn
/// (``Grid/diff(from:)``), and ncurses then sends only what changed on the screen (`wnoutrefresh` +
/// `doupdate`, never a clear). An idle dashboard therefore writes nothing at all.
public final class Terminal {
    public let colorDepth: ColorDepth
    /// Whether the locale can show braille and block characters.
    public let isUTF8: Bool
    /// The descriptor that becomes readable when a key is pressed (for the event loop's wait).
    public let inputDescriptor: Int32
    private let theme: Theme
    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private var painted: Grid?
    /// Columns the C library gives a glyph (`wcwidth`, as ncurses measures it); tests stand in a C library
    /// that disagrees with the grid.
    var measure: (UInt32) -> Int32 = { cnc_wcwidth($0) }
    private var restored = false

    private struct PairKey: Hashable {
        var foreground: Int16
        var background: Int16
    }

    /// Sets the C library's locale from the environment (ncurses draws wide characters only in a UTF-8
    /// one), once. A program that starts threads before the terminal calls it first: setlocale(3) is not
    /// safe while another thread may be reading the locale (in glob, strerror, fnmatch).
    public static func adoptTheUsersLocale() { _ = localeAdopted }

    /// Whether the user's locale is UTF-8 (adopting it first): what a frame printed without a terminal
    /// picks its glyphs by.
    public static var localeIsUTF8: Bool {
        adoptTheUsersLocale()
        return cnc_locale_is_utf8() != 0
    }
    private static let localeAdopted: Void = { _ = setlocale(LC_ALL, "") }()

    /// Takes over the terminal. Keys are read from the terminal itself (`/dev/tty`) when standard input is
    /// not one, so that `tail -F run.jsonl | kltop -` still has a keyboard.
    public convenience init(theme: Theme, colors requested: ColorDepth?) throws(TerminalError) {
        guard isatty(STDOUT_FILENO) == 1 else { throw .notATerminal }
        // A parent may have left signals blocked (a supervisor, a test runner); ncurses learns of a resized
        // window only through SIGWINCH.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGWINCH)
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
        Self.adoptTheUsersLocale()
        // Numbers are parsed in the C locale whatever this says (see CNumbers).
        let inputFile: UnsafeMutablePointer<FILE>?
        if isatty(STDIN_FILENO) == 1 {
            inputFile = fdopen(dup(STDIN_FILENO), "r")
        } else {
            inputFile = fopen("/dev/tty", "r")
        }
        guard let inputFile, let outputFile = fdopen(dup(STDOUT_FILENO), "w") else {
            throw .cannotStart("no terminal to read keys from")
        }
        setenv("ESCDELAY", "25", 0)
        try self.init(
            theme: theme, colors: requested, terminalType: nil, output: outputFile, input: inputFile)
        Self.installCrashRestore()
    }

    /// Starts ncurses on `output` and `input` as a terminal of `terminalType` (nil: `$TERM`), in the
    /// current locale. Tests use it with `/dev/null` to paint grids and read the cells back.
    init(
        theme: Theme, colors requested: ColorDepth?, terminalType: String?,
        output: UnsafeMutablePointer<FILE>,
        input: UnsafeMutablePointer<FILE>
    ) throws(TerminalError) {
        isUTF8 = cnc_locale_is_utf8() != 0
        guard let screen = newterm(terminalType, output, input) else {
            let name = terminalType ?? getenv("TERM").map { String(cString: $0) } ?? ""
            throw .cannotStart("TERM=\(name) is not a terminal ncurses knows")
        }
        _ = set_term(screen)
        guard cnc_has_cursor_addressing() != 0 else {
            endwin()
            delscreen(screen)
            let name = terminalType ?? getenv("TERM").map { String(cString: $0) } ?? ""
            throw .cannotMoveTheCursor(terminalType: name)
        }
        self.screen = screen
        window = cnc_stdscr()
        inputDescriptor = fileno(input)
        self.theme = theme
        cbreak()
        noecho()
        nonl()
        keypad(window, true)
        // Keypad mode asks the terminal for the cursor keys as terminfo names them (`\eOA` for xterm); keys
        // typed before it is asked, or by a terminal that ignores the request, come as `\e[A`. Read as
        // escape, `[` and `A`, an arrow would shrink the rolling window: both forms are the key.
        for (sequence, key) in [
            ("\u{1B}[A", KEY_UP), ("\u{1B}[B", KEY_DOWN), ("\u{1B}[C", KEY_RIGHT), ("\u{1B}[D", KEY_LEFT),
            ("\u{1B}[H", KEY_HOME), ("\u{1B}[F", KEY_END), ("\u{1B}[1;2C", KEY_SRIGHT),
            ("\u{1B}[1;2D", KEY_SLEFT),
            // tmux and screen send Home and End as `\e[1~` and `\e[4~` (rxvt as `\e[7~`, `\e[8~`), also
            // to a program that was told TERM=xterm-256color, whose terminfo does not know them.
            ("\u{1B}[1~", KEY_HOME), ("\u{1B}[4~", KEY_END), ("\u{1B}[7~", KEY_HOME), ("\u{1B}[8~", KEY_END),
            ("\u{1B}[5~", KEY_PPAGE), ("\u{1B}[6~", KEY_NPAGE),
        ] where key_defined(sequence) == 0 {
            define_key(sequence, key)
        }
        nodelay(window, true)
        intrflush(window, false)
        leaveok(window, true)
        scrollok(window, false)
        // When a banner appears or goes, every panel below moves by a line: with insert/delete-line allowed,
        // ncurses moves them with a few bytes instead of redrawing them.
        idlok(window, true)
        curs_set(0)
        var depth: ColorDepth = .none
        if requested != ColorDepth.none && has_colors() {
            start_color()
            use_default_colors()
            depth = cnc_colors() >= 256 ? .colors256 : .colors8
            if let requested, requested == .colors8 { depth = .colors8 }
        }
        colorDepth = depth
        Self.active = true
    }

    deinit { restore() }

    public var size: (width: Int, height: Int) {
        (Int(getmaxx(window)), Int(getmaxy(window)))
    }

    /// The next key or resize, or nil when none is waiting.
    public func read() -> TerminalInput? {
        var value: UInt32 = 0
        let result = cnc_get_key(window, &value)
        if result == ERR { return nil }
        if result == KEY_CODE_YES {
            switch Int32(value) {
            case KEY_RESIZE: return .resized(width: size.width, height: size.height)
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_SLEFT: return .key(.shiftLeft)
            case KEY_SRIGHT: return .key(.shiftRight)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            case KEY_BTAB: return .key(.backTab)
            case KEY_ENTER: return .key(.enter)
            case KEY_BACKSPACE, KEY_DC: return .key(.backspace)
            default: return read()  // a key kltop has no use for
            }
        }
        switch value {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 8, 127: return .key(.backspace)
        case 27: return skippingUnknownSequence()
        default:
            guard let scalar = Unicode.Scalar(value), value >= 32, value != 127 else { return read() }
            return .key(.character(Character(scalar)))
        }
    }

    /// Escape, unless it starts a sequence ncurses does not know (a function key, a key with modifiers
    /// this terminal's terminfo does not list): that is read to its end and dropped. Read as escape, `[`,
    /// `1`, `5` and `~`, F5 would close the screen shown and shrink the rolling window.
    private func skippingUnknownSequence() -> TerminalInput? {
        var value: UInt32 = 0
        let next = cnc_get_key(window, &value)
        guard next != ERR else { return .key(.escape) }
        guard next != KEY_CODE_YES, value == 91 || value == 79 else {  // `[` (CSI) or `O` (SS3)
            cnc_unget_key(next, value)
            return .key(.escape)
        }
        // Escape then `[` typed, with nothing after them: both keys, as they were pressed.
        let introducer = value
        guard cnc_get_key(window, &value) != ERR else {
            cnc_unget_key(next, introducer)
            return .key(.escape)
        }
        // CSI: parameter and intermediate bytes (0x20–0x3F), then a final byte (0x40–0x7E); SS3: one byte.
        let isControlSequence = introducer == 91
        if isControlSequence {
            while (0x20...0x3F).contains(value), cnc_get_key(window, &value) != ERR {}
        }
        return read()
    }

    /// Paints `grid`: only the cells that changed since the last paint, then one `doupdate`.
    ///
    /// Every glyph is measured with `wcwidth` (what ncurses itself goes by) before it is drawn: one whose
    /// width is not the one the grid gave it (a scalar the grid's table gets wrong, or this C library does
    /// not know) is drawn as `?`, or `??` for a wide cell, so a row can never shift.
    public func paint(_ grid: Grid) {
        let runs: [ChangedRun]
        if let painted, painted.width == grid.width, painted.height == grid.height {
            runs = grid.diff(from: painted)
        } else {
            runs = Grid(width: 0, height: 0).diffAll(to: grid)
        }
        guard !runs.isEmpty else { return }
        for run in runs { paint(run, of: grid) }
        painted = grid
        wnoutrefresh(window)
        doupdate()
    }

    private func paint(_ run: ChangedRun, of grid: Grid) {
        var x = run.x
        var cells = run.cells
        // A wide glyph is drawn from its left cell, and covers its right one: a run that starts or ends
        // between the two takes in the other half.
        if cells.first?.kind == .continuation && x > 0 {
            x -= 1
            cells.insert(grid[x, run.y], at: 0)
        }
        if cells.last?.kind == .wide && x + cells.count < grid.width {
            cells.append(grid[x + cells.count, run.y])
        }
        var offset = 0
        while offset < cells.count {
            let cell = cells[offset]
            let style = theme.style(for: cell, depth: colorDepth)
            let pair = pair(for: style)
            let attributes = attributes(style.attributes)
            let column = Int32(x + offset)
            if cell.kind == .wide && offset + 1 < cells.count && cells[offset + 1].kind == .continuation {
                if measure(cell.glyph.value) == 2 {
                    _ = cnc_put(window, Int32(run.y), column, cell.glyph.value, attributes, pair)
                } else {
                    for half: Int32 in 0...1 {
                        _ = cnc_put(window, Int32(run.y), column + half, Self.replacement, attributes, pair)
                    }
                }
                offset += 2
                continue
            }
            // A lone half of a wide glyph (never made by Grid) is drawn as `?` too.
            let fits = cell.kind == .single && measure(cell.glyph.value) == 1
            _ = cnc_put(
                window, Int32(run.y), column, fits ? cell.glyph.value : Self.replacement, attributes, pair)
            offset += 1
        }
    }

    /// What a glyph the terminal would draw at another width becomes.
    static let replacement = Unicode.Scalar("?").value

    /// The character ncurses holds at (x, y) of its screen (0 outside): for tests.
    func glyph(x: Int, y: Int) -> UInt32 { cnc_glyph_at(window, Int32(y), Int32(x)) }

    /// Sets ncurses' idea of the screen's size, as a resize would (for tests on `/dev/null`).
    func resize(width: Int, height: Int) { resizeterm(Int32(height), Int32(width)) }

    /// Rings the terminal bell (or flashes, where the terminal prefers).
    public func bell() { _ = beep() }

    /// Forgets what is on the screen, so that the next paint draws everything (after a resize ncurses may
    /// have lost it).
    public func invalidate() {
        painted = nil
        clearok(window, true)
    }

    /// Gives the terminal back as it was. Safe to call more than once.
    public func restore() {
        guard !restored else { return }
        restored = true
        Self.active = false
        curs_set(1)
        endwin()
        delscreen(screen)
    }

    private func attributes(_ attributes: CellAttributes) -> attr_t {
        var result: attr_t = 0
        if attributes.contains(.bold) { result |= cnc_a_bold() }
        if attributes.contains(.reverse) { result |= cnc_a_reverse() }
        if attributes.contains(.underline) { result |= cnc_a_underline() }
        if attributes.contains(.dim) { result |= cnc_a_dim() }
        return result
    }

    /// The colour pair for a style's colours, made on first use (pair 0 is the terminal's default colours).
    private func pair(for style: Style) -> Int32 {
        guard colorDepth != .none, style.foreground != nil || style.background != nil else { return 0 }
        let key = PairKey(
            foreground: style.foreground.map { Int16($0.index) } ?? -1,
            background: style.background.map { Int16($0.index) } ?? -1)
        if let existing = pairs[key] { return existing }
        guard nextPair < cnc_color_pairs() else { return 0 }
        let pair = nextPair
        nextPair += 1
        init_extended_pair(pair, Int32(key.foreground), Int32(key.background))
        pairs[key] = pair
        return pair
    }

    // MARK: - Restoring the terminal when kltop crashes

    nonisolated(unsafe) private static var active = false

    /// A crash (a Swift trap, a segfault) must not leave the user's terminal in raw mode with no cursor: the
    /// handler restores it, then lets the signal do what it would have done.
    private static func installCrashRestore() {
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                if Terminal.active {
                    Terminal.active = false
                    endwin()
                }
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // the handler puts the default action back itself
            sigaction(signal, &action, nil)
        }
    }
}

extension Grid {
    /// Every cell of `grid` as changed runs, one per row (a first paint, or after a resize).
    fileprivate func diffAll(to grid: Grid) -> [ChangedRun] {
        (0..<grid.height).map { ChangedRun(x: 0, y: $0, cells: Array(grid.row($0))) }
    }
}
