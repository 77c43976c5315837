/// One role's look in a theme, at every colour depth.
public struct RoleStyle: Equatable, Sendable {
    /// 256-colour foreground and background (nil: the terminal's default).
    public var foreground256: TerminalColor?
    public var background256: TerminalColor?
    /// 8-colour foreground and background; when not given, the nearest basic colour of the 256-colour one.
    public var foreground8: TerminalColor?
    public var background8: TerminalColor?
    /// Attributes at every depth.
    public var attributes: CellAttributes
    /// Attributes added when the role gets no colour at the depth in use (a no-colour terminal, or a role the
    /// theme leaves uncoloured): how a role stays distinguishable without colour.
    public var monoAttributes: CellAttributes

    public init(
        foreground256: TerminalColor? = nil, background256: TerminalColor? = nil,
        foreground8: TerminalColor? = nil, background8: TerminalColor? = nil, attributes: CellAttributes = [],
        monoAttributes: CellAttributes = []
    ) {
        self.foreground256 = foreground256
        self.background256 = background256
        self.foreground8 = foreground8
        self.background8 = background8
        self.attributes = attributes
        self.monoAttributes = monoAttributes
    }

    public func style(at depth: ColorDepth) -> Style {
        var foreground: TerminalColor?
        var background: TerminalColor?
        switch depth {
        case .none: break
        case .colors8:
            foreground = foreground8 ?? foreground256?.nearestBasic
            background = background8 ?? background256?.nearestBasic
        case .colors256:
            foreground = foreground256 ?? foreground8
            background = background256 ?? background8
        }
        let uncoloured = foreground == nil && background == nil
        return Style(
            foreground: foreground, background: background,
            attributes: uncoloured ? attributes.union(monoAttributes) : attributes)
    }
}
