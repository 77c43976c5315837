/// Why a text is not a YAML document kltop can read, and where.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// libyaml's reader, scanner or parser refused the text (bad UTF-8, a control character, bad syntax,
        /// nesting deeper than libyaml's limit of 1000).
        case syntax
        /// An alias (`*name`) before or without its anchor.
        case undefinedAlias
        /// The same key twice in one mapping: the keys, as written, sorted.
        case duplicateKeys([String])
        /// A second document (`---`) in the stream: kltop's files hold one.
        case secondDocument
        /// Aliases expand the document beyond ``YAMLNode/maximumExpandedNodes`` (a "billion laughs").
        case tooLarge
        /// libyaml could not allocate memory.
        case memory
    }

    public var kind: Kind
    /// libyaml's words for the problem (`did not find expected ',' or ']'`), or kltop's.
    public var problem: String
    /// Where the problem is, when known.
    public var mark: YAMLMark?
    /// What libyaml was reading when it found the problem (`while parsing a flow sequence`), and where that
    /// started.
    public var context: String?
    public var contextMark: YAMLMark?

    public init(
        _ kind: Kind, _ problem: String, at mark: YAMLMark?, context: String? = nil,
        contextMark: YAMLMark? = nil
    ) {
        self.kind = kind
        self.problem = problem
        self.mark = mark
        self.context = context
        self.contextMark = contextMark
    }

    /// `did not find expected ',' or ']' at line 2, column 1 (while parsing a flow sequence at line 1,
    /// column 15)`. The text itself is never repeated: it may hold a secret.
    public var description: String {
        var text = problem
        if let mark { text += " at \(mark)" }
        if let context {
            text += " (\(context)" + (contextMark.map { " at \($0)" } ?? "") + ")"
        }
        return text
    }
}
