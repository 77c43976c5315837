/// A YAML document as a tree: mappings (pairs in the order written), sequences and scalars, each with where
/// it is written. Aliases are resolved: an alias is the node its anchor names (with that node's mark).
///
/// Only structure: a scalar is its text, its style and the tag written on it, never a typed value. What a
/// plain scalar means is the reader's business (kltop types rlwatch.yaml's values as PyYAML does, in
/// KltopKit's `PyYAMLScalar`).
public struct YAMLNode: Sendable {
    public enum Content: Sendable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    public var content: Content
    /// The tag written on the node, as libyaml resolves its handle (`!!str` is `tag:yaml.org,2002:str`,
    /// `!custom` stays `!custom`); nil when none is written, for nearly every node.
    public var tag: String?
    /// The anchor the node was written with (`&base`): the same for every alias of it.
    public var anchor: String?
    /// Where the node starts.
    public var mark: YAMLMark

    public init(_ content: Content, tag: String? = nil, anchor: String? = nil, mark: YAMLMark) {
        self.content = content
        self.tag = tag
        self.anchor = anchor
        self.mark = mark
    }

    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    public var mapping: [(key: YAMLNode, value: YAMLNode)]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// A scalar's text; nil for a mapping or a sequence.
    public var string: String? { scalar?.string }

    /// A plain scalar written as null (`~`, `null`, `Null`, `NULL` or nothing), whatever its tag; a quoted
    /// `''` is text. (What Yams' `node.null` was, which kltop relied on.)
    public var isNull: Bool {
        guard let scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// A YAML 1.1 merge key: a plain `<<` without a tag, or any node tagged `!!merge`.
    public var isMergeKey: Bool { resolvedTag == YAMLTag.merge }
}

/// A scalar: its text (escapes and folding applied, as libyaml gives it), how it was written, and its tag.
public struct YAMLScalar: Sendable, Equatable {
    public enum Style: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public var string: String
    public var style: Style
    /// The tag written on the scalar (``YAMLNode/tag``); nil when none is written.
    public var tag: String?

    public init(_ string: String, style: Style = .plain, tag: String? = nil) {
        self.string = string
        self.style = style
        self.tag = tag
    }
}

/// A place in the text: line and column, both from 1. Columns count Unicode scalars, as libyaml does; lines
/// are broken at `\n`, `\r`, `\r\n`, NEL and the Unicode line and paragraph separators.
public struct YAMLMark: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// The tags kltop compares with, as libyaml writes `!!name` out.
public enum YAMLTag {
    public static let str = "tag:yaml.org,2002:str"
    public static let seq = "tag:yaml.org,2002:seq"
    public static let map = "tag:yaml.org,2002:map"
    public static let merge = "tag:yaml.org,2002:merge"
}
