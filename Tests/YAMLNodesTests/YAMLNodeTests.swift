import Testing
import YAMLNodes

/// libyaml's events composed into nodes: what kltop's readers of rlwatch.yaml and themes rely on.
@Suite struct YAMLNodeTests {
    func compose(_ text: String) throws -> YAMLNode {
        try #require(try YAMLNode.compose(text))
    }

    func error(_ text: String) -> YAMLError? {
        error(bytes: Array(text.utf8))
    }

    func error(bytes: [UInt8]) -> YAMLError? {
        do {
            _ = try YAMLNode.compose(bytes: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func mappingsKeepTheirOrderAndScalarsTheirStyleAndTag() throws {
        let root = try compose("b: 1\na: [x, 'y', \"z\"]\nc: !!str 5\nd: |\n  block\n")
        let pairs = try #require(root.mapping)
        #expect(pairs.map { $0.key.string } == ["b", "a", "c", "d"])
        let list = try #require(pairs[1].value.sequence)
        #expect(list.map(\.scalar?.style) == [.plain, .singleQuoted, .doubleQuoted])
        #expect(list.allSatisfy { $0.tag == nil })
        #expect(pairs[2].value.scalar == YAMLScalar("5", style: .plain, tag: "tag:yaml.org,2002:str"))
        #expect(pairs[3].value.scalar == YAMLScalar("block\n", style: .literal))
        #expect(try compose("!custom x").tag == "!custom")
    }

    @Test func marksGiveLineAndColumnOfEveryNode() throws {
        let root = try compose("top:\n  inner: {k: v}\n  list:\n    - é: 1\n")
        #expect(root.mark == YAMLMark(line: 1, column: 1))
        let top = try #require(root.mapping?.first?.value.mapping)
        #expect(top[0].key.mark == YAMLMark(line: 2, column: 3))
        #expect(top[0].value.mark == YAMLMark(line: 2, column: 10))
        #expect(top[0].value.mapping?.first?.value.mark == YAMLMark(line: 2, column: 14))
        let item = try #require(top[1].value.sequence?.first?.mapping?.first)
        // Columns count characters: `é` is two bytes, one column.
        #expect(
            item.key.mark == YAMLMark(line: 4, column: 7) && item.value.mark == YAMLMark(line: 4, column: 10))
        let crlf = try compose("a: 1\r\nb: 2\r\n")
        #expect(crlf.mapping?.last?.value.mark == YAMLMark(line: 2, column: 4))
    }

    @Test func aliasesAreTheirAnchorsNodes() throws {
        let root = try compose("base: &b {x: 1}\nuse: *b\nagain: &b 2\nlater: *b\n")
        let pairs = try #require(root.mapping)
        let used = pairs[1].value
        #expect(used.mapping?.first?.key.string == "x" && used.anchor == "b")
        // The node, with the mark of where it is written.
        #expect(used.mark == YAMLMark(line: 1, column: 7))
        // A later anchor of the same name is the one later aliases mean.
        #expect(pairs[3].value.string == "2")
        #expect(
            error("a: *nowhere\n")
                == YAMLError(
                    .undefinedAlias, "alias *nowhere names no anchor before it",
                    at: YAMLMark(line: 1, column: 4)))
        // An alias inside its own anchor's node is not yet defined: no cycle can be built.
        #expect(error("a: &a [*a]\n")?.kind == .undefinedAlias)
    }

    @Test func malformedTextGivesLibyamlsMessageAndLine() throws {
        let unclosed = try #require(error("kl_explosion: [unclosed\n"))
        #expect(unclosed.kind == .syntax && unclosed.mark?.line == 2)
        #expect(unclosed.problem == "did not find expected ',' or ']'")
        #expect(
            unclosed.context == "while parsing a flow sequence"
                && unclosed.contextMark == YAMLMark(line: 1, column: 15))
        #expect(
            unclosed.description
                == "did not find expected ',' or ']' at line 2, column 1 (while parsing a flow sequence at line 1, column 15)"
        )
        let indented = try #require(error("a: 1\n b: 2\n"))
        #expect(indented.kind == .syntax && indented.mark?.line == 2)
        #expect(
            error("a: 1\n---\nb: 2\n")
                == YAMLError(
                    .secondDocument, "a second document, where one is expected",
                    at: YAMLMark(line: 2, column: 1)))
    }

    @Test func bytesThatAreNotUTF8AreRefusedWithTheirLine() throws {
        let bad = try #require(error(bytes: Array("a: 1\nb: ".utf8) + [0xFF, 0x0A]))
        #expect(bad.kind == .syntax && bad.mark == YAMLMark(line: 2, column: 4))
        #expect(bad.problem.hasPrefix("invalid leading UTF-8 octet"))
        let cut = try #require(error(bytes: Array("a: ".utf8) + [0xC3]))
        #expect(cut.kind == .syntax && cut.mark?.line == 1)
        #expect(error("a: \u{0}\n")?.kind == .syntax, "control characters are not allowed")
        #expect(try YAMLNode.compose(bytes: Array("a: é\n".utf8))?.mapping?.first?.value.string == "é")
    }

    /// A billion laughs: nine lists of nine aliases of the list before, 9⁹ strings from 300 bytes. Refused
    /// once the expansion passes the bound, before anything walks it.
    @Test func aliasBombsAreBounded() throws {
        var text = "a0: &a0 [lol]\n"
        for level in 1...9 {
            text +=
                "a\(level): &a\(level) ["
                + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        #expect(error(text)?.kind == .tooLarge)
        // The bound counts nodes as expanded: a list of 999 scalars (1000 nodes) repeated 98 times fits, 99
        // times not (1 + 1000 + 99 × 1000 > 100 000).
        let list = "&l [" + Array(repeating: "x", count: 999).joined(separator: ",") + "]"
        let fits = try compose("[\(list)" + String(repeating: ", *l", count: 98) + "]")
        #expect(fits.sequence?.count == 99 && fits.sequence?.last?.sequence?.count == 999)
        let over = error("[\(list)" + String(repeating: ", *l", count: 99) + "]")
        // At the 99th alias: `[&l [` and 999 items with their commas and `]` take 2003 columns, each `, *l` 4.
        #expect(over?.kind == .tooLarge && over?.mark == YAMLMark(line: 1, column: 2003 + 98 * 4 + 3))
    }

    @Test func deepNestingIsRefusedByLibyamlsLimit() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(error(deep)?.kind == .syntax)
        let fine = try compose(String(repeating: "[", count: 500) + "x" + String(repeating: "]", count: 500))
        var node = fine
        var depth = 0
        while let inner = node.sequence?.first {
            node = inner
            depth += 1
        }
        #expect(depth == 500 && node.string == "x")
    }

    @Test func keysWrittenTwiceAreRefusedAsYamsRefusedThem() throws {
        #expect(
            error("a: 1\nb: 2\n\"a\": 3\n")
                == YAMLError(
                    .duplicateKeys(["a"]), "a key written twice in one mapping",
                    at: YAMLMark(line: 1, column: 1)))
        #expect(error("z: 1\ny: 1\nz: 2\ny: 2\n")?.kind == .duplicateKeys(["y", "z"]))
        // Equal text, different types: a number and a string, a boolean and a string.
        #expect(error("1: a\n\"1\": b\ntrue: c\n'true': d\n") == nil)
        #expect(error("? [a, b]\n: 1\n? [a, b]\n: 2\n")?.kind == .duplicateKeys(["(a list)"]))
        #expect(error("outer:\n  a: 1\n  a: 2\n")?.mark?.line == 2)
    }

    @Test func mergeKeysAndNulls() throws {
        let pairs = try #require(try compose("<<: {}\n\"<<\": 1\n!!merge x: 2\n").mapping)
        #expect(pairs.map(\.key.isMergeKey) == [true, false, true])
        let values = try #require(try compose("[~, null, '', !!str , x]").sequence)
        #expect(values.map(\.isNull) == [true, true, false, true, false])
        #expect(try YAMLNode.compose("") == nil && YAMLNode.compose("# only a comment\n") == nil)
        #expect(try compose("---\n").isNull)
    }
}
