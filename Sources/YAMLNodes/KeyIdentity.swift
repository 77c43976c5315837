/// A mapping key as Yams compared keys for "written twice": text and resolved tag for a scalar, resolved
/// tag and items for a collection. Hashes text and shape only, so that the tag of a plain scalar (a regular
/// expression match) is worked out only when two keys of equal text differ in how they were written.
struct KeyIdentity: Hashable {
    let node: YAMLNode

    static func == (lhs: KeyIdentity, rhs: KeyIdentity) -> Bool { same(lhs.node, rhs.node) }

    func hash(into hasher: inout Hasher) { Self.hash(node, into: &hasher) }

    private static func hash(_ node: YAMLNode, into hasher: inout Hasher) {
        switch node.content {
        case .scalar(let scalar):
            hasher.combine(0)
            hasher.combine(scalar.string)
        case .sequence(let items):
            hasher.combine(1)
            hasher.combine(items.count)
            for item in items { hash(item, into: &hasher) }
        case .mapping(let pairs):
            hasher.combine(2)
            hasher.combine(pairs.count)
            for pair in pairs {
                hash(pair.key, into: &hasher)
                hash(pair.value, into: &hasher)
            }
        }
    }

    private static func same(_ lhs: YAMLNode, _ rhs: YAMLNode) -> Bool {
        switch (lhs.content, rhs.content) {
        case (.scalar(let left), .scalar(let right)):
            guard left.string == right.string else { return false }
            if left.tag == nil && left.style == .plain && right.tag == nil && right.style == .plain {
                return true
            }
            return lhs.resolvedTag == rhs.resolvedTag
        case (.sequence(let left), .sequence(let right)):
            return lhs.resolvedTag == rhs.resolvedTag && left.count == right.count
                && zip(left, right).allSatisfy { same($0, $1) }
        case (.mapping(let left), .mapping(let right)):
            return lhs.resolvedTag == rhs.resolvedTag && left.count == right.count
                && zip(left, right).allSatisfy { same($0.key, $1.key) && same($0.value, $1.value) }
        default:
            return false
        }
    }
}

extension YAMLNode {
    /// The node's tag as Yams resolved it: the written one (`!` alone meaning str, seq or map), str for a
    /// quoted or block scalar, seq and map for collections, and for a plain scalar the first of Yams'
    /// default rules (YAML 1.2's core schema with YAML 1.1's booleans, merge, timestamp and value) that
    /// matches its text. Used only to tell keys apart and to find merge keys; values are typed by their
    /// reader.
    var resolvedTag: String {
        switch content {
        case .scalar(let scalar):
            if let tag = scalar.tag { return tag == "!" ? YAMLTag.str : tag }
            if scalar.style != .plain { return YAMLTag.str }
            if scalar.string == "<<" { return YAMLTag.merge }
            return YamsResolver.tag(of: scalar.string)
        case .sequence: return tag == nil || tag == "!" ? YAMLTag.seq : tag!
        case .mapping: return tag == nil || tag == "!" ? YAMLTag.map : tag!
        }
    }
}

/// Yams 6's `Resolver.default` rules, in its order (its NSRegularExpression patterns, anchored at both ends).
enum YamsResolver {
    static func tag(of text: String) -> String {
        for (tag, pattern) in rules where text.wholeMatch(of: try! Regex(pattern)) != nil {
            return "tag:yaml.org,2002:" + tag
        }
        return YAMLTag.str
    }

    private static let rules: [(String, String)] = [
        ("bool", "yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"),
        (
            "int",
            #"[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"#
        ),
        (
            "float",
            #"[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"#
                + #"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"#
        ),
        ("merge", "<<"),
        ("null", "~|null|Null|NULL|"),
        (
            "timestamp",
            "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                + "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
                + "(?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?"
        ),
        ("value", "="),
    ]
}
