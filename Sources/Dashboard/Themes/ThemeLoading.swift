import Foundation

extension Theme {
    /// Loads a theme by name (`solarized-dark`) or path (`~/my.yaml`, anything with a `/` or a `.yaml`/`.yml`
    /// ending).
    ///
    /// A name is looked up as `NAME.yaml` in `searchDirectories` (by default ``defaultSearchDirectories``:
    /// beside the executable, in the source package), then among the compiled-in themes. Roles the file
    /// leaves out come from the default theme. Errors name the file, and the line and key where they can.
    public static func load(nameOrPath: String, searchDirectories: [String]? = nil) throws(ThemeError)
        -> Theme
    {
        if isPath(nameOrPath) {
            let path = (nameOrPath as NSString).expandingTildeInPath
            return try parse(file: path)
        }
        let name = nameOrPath
        for directory in searchDirectories ?? defaultSearchDirectories {
            let path = directory + "/" + name + ".yaml"
            if FileManager.default.fileExists(atPath: path) { return try parse(file: path) }
        }
        if let builtIn = BuiltInThemes.sources.first(where: { $0.name == name }) {
            return try ThemeParser.parse(builtIn.yaml, file: "built-in:\(name)", base: standard)
        }
        throw ThemeError(
            file: name, line: nil, key: nil,
            message: "no such theme (built in: \(builtInNames.joined(separator: ", ")); or give a path)")
    }

    /// Parses theme text; `file` is named in errors.
    public static func parse(_ text: String, file: String) throws(ThemeError) -> Theme {
        try ThemeParser.parse(text, file: file, base: standard)
    }

    static func isPath(_ text: String) -> Bool {
        text.contains("/") || text.hasSuffix(".yaml") || text.hasSuffix(".yml")
    }

    static func parse(file path: String) throws(ThemeError) -> Theme {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let message =
                !exists ? "no such file" : isDirectory.boolValue ? "is a directory" : "cannot be read"
            throw ThemeError(file: path, line: nil, key: nil, message: message)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ThemeError(file: path, line: nil, key: nil, message: "is not UTF-8 text")
        }
        return try ThemeParser.parse(text, file: path, base: standard)
    }

    /// Where theme names are looked up: `themes/` beside the executable and in `../share/kltop/` from it
    /// (an installed layout), then the source package's `themes/` (a `swift run` from a checkout).
    public static var defaultSearchDirectories: [String] {
        var directories: [String] = []
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            directories.append(executable.appendingPathComponent("themes").path)
            directories.append(executable.appendingPathComponent("../share/kltop/themes").standardized.path)
        }
        directories.append(packageThemesDirectory)
        return directories
    }

    /// The package's `themes/` folder, found from this source file's path at build time.
    public static let packageThemesDirectory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes").path
}
