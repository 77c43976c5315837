/// A key the user pressed, as the terminal layer decodes it (ncurses key codes → these).
public enum Key: Hashable, Sendable {
    /// A printable character: the commands `q ? p + - [ ] b w l y s x a o h i`.
    case character(Character)
    case tab
    /// Shift-Tab (`KEY_BTAB`).
    case backTab
    case up
    case down
    case left
    case right
    /// Shift-← and shift-→ (`KEY_SLEFT`, `KEY_SRIGHT`): the inspect cursor's long moves.
    case shiftLeft
    case shiftRight
    case pageUp
    case pageDown
    case home
    case end
    case enter
    case escape
    /// Backspace (or Delete): edits the `/` filter.
    case backspace
}
