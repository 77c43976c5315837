/// Colours and attributes for every ``ColorRole``, at 256 colours, 8 colours and none.
///
/// Themes are YAML files in the package's `themes/` folder (as k9s skins are); the built-in ones are also
/// compiled in (``BuiltInThemes``) so that an installed binary works without the folder. A theme file may
/// leave roles out: they come from the default theme.
public struct Theme: Equatable, Sendable {
    public var name: String
    public var description: String
    /// Where the theme was read from: a file path, or `built-in:NAME`.
    public var source: String
    public var roles: [ColorRole: RoleStyle]

    public init(name: String, description: String = "", source: String, roles: [ColorRole: RoleStyle]) {
        self.name = name
        self.description = description
        self.source = source
        self.roles = roles
    }

    /// How a role is drawn at a colour depth.
    public func style(for role: ColorRole, depth: ColorDepth) -> Style {
        (roles[role] ?? RoleStyle()).style(at: depth)
    }

    /// How a cell is drawn: its role's style plus the cell's own attributes, on its backdrop's background.
    public func style(for cell: Cell, depth: ColorDepth) -> Style {
        var style = style(for: cell.role, depth: depth)
        style.attributes.formUnion(cell.attributes)
        if let backdrop = cell.backdrop, let background = self.style(for: backdrop, depth: depth).background {
            style.background = background
        }
        return style
    }

    /// Whether the band is drawn as a shaded region at this depth: only with 256 colours, where a theme can
    /// pick a background just off the terminal's own (eight colours have no such shade), and only when the
    /// theme gives one (the mono theme does not).
    public func shadesTheBand(at depth: ColorDepth) -> Bool {
        depth == .colors256 && roles[.bandShade]?.background256 != nil
    }

    /// The names of the built-in themes, in the order the help lists them.
    public static var builtInNames: [String] { BuiltInThemes.sources.map(\.name) }

    /// The default (dark) theme, from the compiled-in copy; it cannot fail (a test parses every built-in).
    public static let standard: Theme = {
        guard let source = BuiltInThemes.sources.first(where: { $0.name == "default" }),
            let theme = try? ThemeParser.parse(source.yaml, file: "built-in:default", base: nil)
        else { return Theme(name: "default", source: "built-in:default", roles: [:]) }
        return theme
    }()
}
