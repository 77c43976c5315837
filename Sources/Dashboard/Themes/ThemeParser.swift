import YAMLNodes

/// Reads a theme's YAML, with the line and key of every complaint (from the nodes' marks).
///
/// ```yaml
/// name: default
/// description: Dark terminals.
/// roles:
///   band: {fg: 31, fg8: blue, attrs: [dim], mono: [dim]}
/// runs:
///   - {fg: 39, fg8: blue}
/// ```
/// Colours are 256-colour numbers (0–255) or basic names (black, red, green, yellow, blue, magenta, cyan,
/// white); `fg8`/`bg8` take basic colours only. `attrs` apply at every depth, `mono` only where the role
/// gets no colour. Unknown keys are errors: a typo in a theme should not silently do nothing.
enum ThemeParser {
    static func parse(_ text: String, file: String, base: Theme?) throws(ThemeError) -> Theme {
        let root: YAMLNode?
        do {
            root = try YAMLNode.compose(text)
        } catch {
            throw ThemeError(
                file: file, line: error.mark?.line, key: nil,
                message: "\(error.kind == .tooLarge ? "is refused" : "is not valid YAML"): \(error)")
        }
        guard let root, let top = root.mapping else {
            throw ThemeError(
                file: file, line: root?.mark.line, key: nil,
                message: "must be a mapping with name, roles and runs")
        }
        var theme = base ?? Theme(name: "", source: file, roles: [:])
        theme.source = file
        var sawName = false
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "name":
                theme.name = try string(value, key, file)
                sawName = true
            case "description": theme.description = try string(value, key, file)
            case "roles":
                guard let roles = value.mapping else {
                    throw ThemeError(
                        file: file, line: value.mark.line, key: key, message: "must be a mapping of roles")
                }
                for (roleKey, roleValue) in roles {
                    let roleName = roleKey.string ?? ""
                    guard let role = ColorRole(rawValue: roleName), !ColorRole.runPalette.contains(role)
                    else {
                        let known = ColorRole.allCases.filter { !ColorRole.runPalette.contains($0) }
                            .map(\.rawValue).joined(separator: ", ")
                        throw ThemeError(
                            file: file, line: roleKey.mark.line, key: "roles.\(roleName)",
                            message: "unknown role (known: \(known); run colours go under runs)")
                    }
                    theme.roles[role] = try roleStyle(roleValue, "roles.\(roleName)", file)
                }
            case "runs":
                guard let runs = value.sequence else {
                    throw ThemeError(
                        file: file, line: value.mark.line, key: key, message: "must be a list of run colours"
                    )
                }
                guard runs.count <= ColorRole.runPalette.count else {
                    throw ThemeError(
                        file: file, line: value.mark.line, key: key,
                        message: "has \(runs.count) entries; at most \(ColorRole.runPalette.count)")
                }
                for (index, entry) in runs.enumerated() {
                    theme.roles[ColorRole.runPalette[index]] = try roleStyle(entry, "runs[\(index)]", file)
                }
            default:
                throw ThemeError(
                    file: file, line: keyNode.mark.line, key: key,
                    message: "unknown key (known: name, description, roles, runs)")
            }
        }
        if !sawName || theme.name.isEmpty {
            throw ThemeError(file: file, line: root.mark.line, key: "name", message: "is missing")
        }
        return theme
    }

    private static func roleStyle(_ node: YAMLNode, _ path: String, _ file: String) throws(ThemeError)
        -> RoleStyle
    {
        guard let mapping = node.mapping else {
            throw ThemeError(
                file: file, line: node.mark.line, key: path,
                message: "must be a mapping of fg, bg, fg8, bg8, attrs, mono")
        }
        var style = RoleStyle()
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let keyPath = "\(path).\(key)"
            switch key {
            case "fg": style.foreground256 = try color(value, keyPath, file, basicOnly: false)
            case "bg": style.background256 = try color(value, keyPath, file, basicOnly: false)
            case "fg8": style.foreground8 = try color(value, keyPath, file, basicOnly: true)
            case "bg8": style.background8 = try color(value, keyPath, file, basicOnly: true)
            case "attrs": style.attributes = try attributes(value, keyPath, file)
            case "mono": style.monoAttributes = try attributes(value, keyPath, file)
            default:
                throw ThemeError(
                    file: file, line: keyNode.mark.line, key: keyPath,
                    message: "unknown key (known: fg, bg, fg8, bg8, attrs, mono)")
            }
        }
        return style
    }

    private static func color(_ node: YAMLNode, _ path: String, _ file: String, basicOnly: Bool)
        throws(ThemeError)
        -> TerminalColor?
    {
        guard let text = node.scalar?.string else {
            throw ThemeError(file: file, line: node.mark.line, key: path, message: "must be a colour")
        }
        if text == "default" { return nil }
        if let index = TerminalColor.basicNames.firstIndex(of: text.lowercased()) {
            return TerminalColor(UInt8(index))
        }
        let limit = basicOnly ? 7 : 255
        guard let number = Int(text), number >= 0, number <= limit else {
            let expected =
                basicOnly
                ? "a basic colour name or 0-7" : "a colour number 0-255 or a basic colour name"
            throw ThemeError(
                file: file, line: node.mark.line, key: path, message: "must be \(expected) (got \(text))")
        }
        return TerminalColor(UInt8(number))
    }

    private static func attributes(_ node: YAMLNode, _ path: String, _ file: String) throws(ThemeError)
        -> CellAttributes
    {
        guard let list = node.sequence else {
            throw ThemeError(
                file: file, line: node.mark.line, key: path,
                message: "must be a list of bold, dim, reverse, underline")
        }
        var result: CellAttributes = []
        for item in list {
            switch item.string {
            case "bold": result.insert(.bold)
            case "dim": result.insert(.dim)
            case "reverse": result.insert(.reverse)
            case "underline": result.insert(.underline)
            default:
                throw ThemeError(
                    file: file, line: item.mark.line, key: path,
                    message: "unknown attribute \(item.string ?? "?") (known: bold, dim, reverse, underline)")
            }
        }
        return result
    }

    private static func string(_ node: YAMLNode, _ path: String, _ file: String) throws(ThemeError) -> String
    {
        guard let text = node.scalar?.string else {
            throw ThemeError(file: file, line: node.mark.line, key: path, message: "must be text")
        }
        return text
    }
}
