import KltopKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
            let path = expandingTilde(nameOrPath)
            return try parse(file: path)
        }
        let name = nameOrPath
        for directory in searchDirectories ?? defaultSearchDirectories {
            let path = directory + "/" + name + ".yaml"
            if TextFile.exists(path) { return try parse(file: path) }
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
        let bytes: [UInt8]
        switch TextFile.read(path) {
        case .success(let read): bytes = read
        case .failure(let problem):
            throw ThemeError(file: path, line: nil, key: nil, message: problem.description)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ThemeError(file: path, line: nil, key: nil, message: "is not UTF-8 text")
        }
        return try ThemeParser.parse(text, file: path, base: standard)
    }

    /// Where theme names are looked up: `themes/` beside the executable and in `../share/kltop/` from it
    /// (an installed layout), then the source package's `themes/` (a `swift run` from a checkout).
    public static var defaultSearchDirectories: [String] {
        var directories: [String] = []
        if let executable = executablePath() {
            let directory = parent(of: executable)
            directories.append(directory + "/themes")
            directories.append(parent(of: directory) + "/share/kltop/themes")
        }
        directories.append(packageThemesDirectory)
        return directories
    }

    /// The package's `themes/` folder, found from this source file's path at build time
    /// (`Sources/Dashboard/Themes/ThemeLoading.swift`, four levels down).
    public static let packageThemesDirectory: String = {
        var path = #filePath
        for _ in 0..<4 { path = parent(of: path) }
        return path + "/themes"
    }()

    /// The folder a path is in: `/a/b` for `/a/b/c`, `/` for `/a`.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The running executable, symbolic links resolved.
    static func executablePath() -> String? {
        #if canImport(Glibc)
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
            guard count > 0 else { return nil }
            return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
            var size = UInt32(PATH_MAX) + 1
            var buffer = [CChar](repeating: 0, count: Int(size))
            guard _NSGetExecutablePath(&buffer, &size) == 0, let resolved = realpath(buffer, nil) else {
                return nil
            }
            defer { free(resolved) }
            return String(cString: resolved)
        #endif
    }

    /// `~` and `~/x` in the home folder (`$HOME`, else the password database's), `~user/x` in that user's;
    /// an unknown user is left as written. (NSString's `expandingTildeInPath`.)
    static func expandingTilde(_ path: String) -> String {
        guard path.hasPrefix("~") else { return path }
        let slash = path.firstIndex(of: "/") ?? path.endIndex
        let user = path[path.index(after: path.startIndex)..<slash]
        let home: String?
        if user.isEmpty {
            home =
                getenv("HOME").map { String(cString: $0) }
                ?? getpwuid(getuid()).map { String(cString: $0.pointee.pw_dir) }
        } else {
            home = getpwnam(String(user)).map { String(cString: $0.pointee.pw_dir) }
        }
        guard let home else { return path }
        return home + path[slash...]
    }
}
