import Foundation
import Testing

@testable import Dashboard

@Suite struct ThemeTests {
    static let themesDirectory = Theme.packageThemesDirectory

    @Test func theEmbeddedThemesEqualTheFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.themesDirectory)
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
        #expect(files == Theme.builtInNames.sorted(), "themes/ and the embedded list hold different themes")
        for (name, yaml) in BuiltInThemes.sources {
            let file = try String(contentsOfFile: Self.themesDirectory + "/\(name).yaml", encoding: .utf8)
            #expect(file == yaml + "\n", "themes/\(name).yaml changed: run themes/embed.sh")
        }
    }

    @Test(arguments: Theme.builtInNames) func everyBuiltInThemeLoadsAndDefinesEveryRole(name: String) throws {
        let embedded = try Theme.load(nameOrPath: name, searchDirectories: [])
        #expect(embedded.name == name)
        #expect(embedded.source == "built-in:\(name)")
        let yaml = try #require(BuiltInThemes.sources.first { $0.name == name }?.yaml)
        let own = try ThemeParser.parse(yaml, file: name, base: nil)
        for role in ColorRole.allCases {
            #expect(own.roles[role] != nil, "\(name) leaves out \(role.rawValue)")
        }
        let fromFile = try Theme.load(nameOrPath: name)
        #expect(fromFile.roles == embedded.roles)
        #expect(fromFile.source.hasSuffix("themes/\(name).yaml"))
    }

    /// Every colour theme shades the band at 256 colours, behind whatever glyph a band cell holds; none does
    /// at 8 colours or without colour, and the mono theme never does.
    @Test(arguments: Theme.builtInNames) func theBandIsShadedOnlyWhereAThemeCanShadeIt(name: String) throws {
        let theme = try Theme.load(nameOrPath: name, searchDirectories: [])
        #expect(theme.shadesTheBand(at: .colors256) == (name != "mono"))
        #expect(!theme.shadesTheBand(at: .colors8))
        #expect(!theme.shadesTheBand(at: .none))
        guard name != "mono" else { return }
        var point = Cell("⣿", role: .pointCritical)
        let plain = theme.style(for: point, depth: .colors256)
        point.backdrop = .bandShade
        let shaded = theme.style(for: point, depth: .colors256)
        #expect(shaded.background == theme.style(for: .bandShade, depth: .colors256).background)
        #expect(shaded.foreground == plain.foreground, "the point keeps its colour on the band")
        #expect(shaded.background != theme.style(for: .text, depth: .colors256).background)
    }

    @Test func okabeItoUsesThePaletteForSeverities() throws {
        let theme = try Theme.load(nameOrPath: "okabe-ito", searchDirectories: [])
        #expect(theme.style(for: .pointWarning, depth: .colors256).foreground == TerminalColor(178))
        #expect(theme.style(for: .pointCritical, depth: .colors256).foreground == TerminalColor(166))
        #expect(theme.style(for: .pointCritical, depth: .colors256).attributes.contains(.underline))
    }

    @Test func depthsPickTheirColoursAndMonoAttributes() {
        let theme = Theme.standard
        let critical256 = theme.style(for: .bannerCritical, depth: .colors256)
        #expect(critical256.background == TerminalColor(160) && !critical256.attributes.contains(.reverse))
        let critical8 = theme.style(for: .bannerCritical, depth: .colors8)
        #expect(critical8.background == TerminalColor(1))  // red
        let none = theme.style(for: .bannerCritical, depth: .none)
        #expect(none.foreground == nil && none.background == nil)
        #expect(none.attributes.contains(.reverse) && none.attributes.contains(.bold))
        let cell = Cell("x", role: .text, attributes: .underline)
        #expect(theme.style(for: cell, depth: .colors256).attributes.contains(.underline))
    }

    @Test func nearestBasicColours() {
        #expect(TerminalColor(196).nearestBasic == TerminalColor(1))  // red
        #expect(TerminalColor(46).nearestBasic == TerminalColor(2))  // green
        #expect(TerminalColor(21).nearestBasic == TerminalColor(4))  // blue
        #expect(TerminalColor(226).nearestBasic == TerminalColor(3))  // yellow
        #expect(TerminalColor(231).nearestBasic == TerminalColor(7))  // white
        #expect(TerminalColor(16).nearestBasic == TerminalColor(0))
        #expect(TerminalColor(250).nearestBasic == TerminalColor(7))
        #expect(TerminalColor(9).nearestBasic == TerminalColor(1))
    }

    @Test func aThemeFileMayLeaveRolesOutAndGetsTheDefaults() throws {
        let theme = try Theme.parse("name: mine\nroles:\n  band: {fg: 99}\n", file: "mine.yaml")
        #expect(theme.style(for: .band, depth: .colors256).foreground == TerminalColor(99))
        #expect(theme.roles[.pointCritical] == Theme.standard.roles[.pointCritical])
    }

    @Test(
        arguments: [
            ("name: x\nroles:\n  bnad: {fg: 1}\n", 3, "roles.bnad", "unknown role"),
            ("name: x\nroles:\n  band: {fg: 300}\n", 3, "roles.band.fg", "0-255"),
            ("name: x\nroles:\n  band:\n    fg8: 12\n", 4, "roles.band.fg8", "basic colour"),
            ("name: x\nroles:\n  band: {attrs: [blink]}\n", 3, "roles.band.attrs", "unknown attribute blink"),
            ("name: x\nroles:\n  band: {colour: 1}\n", 3, "roles.band.colour", "unknown key"),
            ("name: x\ncolours: {}\n", 2, "colours", "unknown key"),
            (
                "name: x\nruns: [{fg: 1}, {fg: 2}, {fg: 3}, {fg: 4}, {fg: 5}, {fg: 6}, {fg: 7}, {fg: 8}, {fg: 9}]\n",
                2,
                "runs", "at most 8"
            ),
            ("roles: {}\n", 1, "name", "is missing"),
            ("name: x\nroles: [band]\n", 2, "roles", "mapping"),
        ] as [(String, Int, String, String)])
    func badThemesNameTheFileLineAndKey(text: String, line: Int, key: String, message: String) {
        #expect {
            try Theme.parse(text, file: "bad.yaml")
        } throws: { error in
            guard let error = error as? ThemeError else { return false }
            return error.file == "bad.yaml" && error.line == line && error.key == key
                && error.message.contains(message)
                && error.description.hasPrefix("bad.yaml:\(line): \(key): ")
        }
    }

    @Test func invalidYAMLGivesTheLine() {
        #expect {
            try Theme.parse("name: x\nroles:\n  band: {fg: 1\n", file: "broken.yaml")
        } throws: { error in
            (error as? ThemeError)?.file == "broken.yaml" && (error as? ThemeError)?.line != nil
        }
    }

    @Test func loadingByPathAndUnknownNames() throws {
        let path = NSTemporaryDirectory() + "kltop-theme-\(getpid()).yaml"
        try "name: custom\nroles:\n  text: {fg: 10}\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let theme = try Theme.load(nameOrPath: path)
        #expect(theme.name == "custom" && theme.source == path)
        #expect(throws: ThemeError.self) {
            try Theme.load(nameOrPath: "no-such-theme", searchDirectories: [])
        }
        #expect {
            try Theme.load(nameOrPath: "/nonexistent/theme.yaml")
        } throws: { ($0 as? ThemeError)?.message == "no such file" }
    }
}
