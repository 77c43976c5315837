import CYaml

extension YAMLNode {
    /// The most nodes a document may stand for, each alias counted as every node it repeats. A config file
    /// has hundreds; a "billion laughs" (a list of nine aliases of a list of nine aliases of ...) has 9¹⁰
    /// in a few hundred bytes. The tree shares what aliases repeat, but whoever walks it visits every
    /// repetition, so the expansion is what is bounded.
    public static let maximumExpandedNodes = 100_000

    /// The single document in `text`; nil when the text holds none (empty, or only comments).
    public static func compose(_ text: String) throws(YAMLError) -> YAMLNode? {
        try compose(bytes: Array(text.utf8))
    }

    /// The single document in UTF-8 `bytes`; bytes that are not UTF-8 are refused with where they are.
    public static func compose(bytes: [UInt8]) throws(YAMLError) -> YAMLNode? {
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<YAMLNode?, YAMLError> in
            var composer = Composer(bytes: buffer)
            do throws(YAMLError) {
                return .success(try composer.run())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// Builds the tree from libyaml's events, with a stack rather than recursion (libyaml bounds the nesting
/// at 1000 levels; the stack needs no bound of its own).
private struct Composer {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Each anchor's node and its expanded size; a later anchor of the same name replaces an earlier one.
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    var stack: [Collection] = []
    var root: YAMLNode?
    var documents = 0

    struct Collection {
        var isMapping: Bool
        var tag: String?
        var anchor: String?
        var mark: YAMLMark
        var items: [YAMLNode] = []
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        var pendingKey: YAMLNode?
        /// Nodes this collection stands for so far, itself included.
        var size = 1
    }

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func run() throws(YAMLError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(.memory, "out of memory", at: nil)
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        // libyaml reads an empty input from a null pointer too, but an empty buffer may have none.
        var empty: UInt8 = 0
        if let base = bytes.baseAddress, !bytes.isEmpty {
            yaml_parser_set_input_string(&parser, base, bytes.count)
        } else {
            yaml_parser_set_input_string(&parser, &empty, 0)
        }
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { throw error(of: parser) }
            defer { yaml_event_delete(&event) }
            let mark = YAMLMark(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw YAMLError(.secondDocument, "a second document, where one is expected", at: mark)
                }
            case YAML_ALIAS_EVENT:
                let name = string(event.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    throw YAMLError(.undefinedAlias, "alias *\(name) names no anchor before it", at: mark)
                }
                try add(target.node, size: target.size, at: mark)
            case YAML_SCALAR_EVENT:
                let data = event.data.scalar
                let text = String(
                    decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
                let tag = string(data.tag)
                let scalar = YAMLScalar(text, style: YAMLScalar.Style(data.style), tag: tag)
                let node = YAMLNode(.scalar(scalar), tag: tag, anchor: string(data.anchor), mark: mark)
                try add(node, size: 1, at: mark)
            case YAML_SEQUENCE_START_EVENT:
                let data = event.data.sequence_start
                stack.append(
                    Collection(
                        isMapping: false, tag: data.implicit != 0 ? nil : string(data.tag),
                        anchor: string(data.anchor), mark: mark))
            case YAML_MAPPING_START_EVENT:
                let data = event.data.mapping_start
                stack.append(
                    Collection(
                        isMapping: true, tag: data.implicit != 0 ? nil : string(data.tag),
                        anchor: string(data.anchor), mark: mark))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let done = stack.popLast() else { continue }
                let content: YAMLNode.Content
                if done.isMapping {
                    try Self.checkUniqueKeys(done.pairs)
                    content = .mapping(done.pairs)
                } else {
                    content = .sequence(done.items)
                }
                let node = YAMLNode(content, tag: done.tag, anchor: done.anchor, mark: done.mark)
                try add(node, size: done.size, at: mark)
            default:
                continue  // stream start, document end
            }
        }
    }

    /// Puts a finished node into the collection being read (or makes it the root), and registers its anchor.
    private mutating func add(_ node: YAMLNode, size: Int, at mark: YAMLMark) throws(YAMLError) {
        // An alias's node is its target, anchor included: registering it again changes nothing.
        if let anchor = node.anchor { anchors[anchor] = (node, size) }
        guard !stack.isEmpty else {
            root = node
            return
        }
        let total = stack[stack.count - 1].size + size
        guard total <= YAMLNode.maximumExpandedNodes else {
            throw YAMLError(
                .tooLarge,
                "the document stands for more than \(YAMLNode.maximumExpandedNodes) nodes once its aliases "
                    + "are expanded", at: mark)
        }
        stack[stack.count - 1].size = total
        if !stack[stack.count - 1].isMapping {
            stack[stack.count - 1].items.append(node)
        } else if let key = stack[stack.count - 1].pendingKey {
            stack[stack.count - 1].pairs.append((key, node))
            stack[stack.count - 1].pendingKey = nil
        } else {
            stack[stack.count - 1].pendingKey = node
        }
    }

    /// Refuses a mapping with a key written twice. Keys are the same when Yams, which kltop read YAML with
    /// before, found them the same: equal text and equal tags once resolved (`a` and `"a"` are, `1` and
    /// `"1"` are not), collections item by item.
    private static func checkUniqueKeys(_ pairs: [(key: YAMLNode, value: YAMLNode)]) throws(YAMLError) {
        guard pairs.count > 1 else { return }
        var groups: [KeyIdentity: [YAMLNode]] = [:]
        var order: [KeyIdentity] = []
        for pair in pairs {
            let identity = KeyIdentity(node: pair.key)
            if groups[identity] == nil { order.append(identity) }
            groups[identity, default: []].append(pair.key)
        }
        let repeated = order.filter { groups[$0]!.count > 1 }.map(\.node)
        guard !repeated.isEmpty else { return }
        let named = repeated.map {
            (name: $0.string ?? ($0.mapping != nil ? "(a mapping)" : "(a list)"), node: $0)
        }
        .sorted { $0.name < $1.name }
        throw YAMLError(
            .duplicateKeys(named.map(\.name)), "a key written twice in one mapping", at: named[0].node.mark)
    }

    private func error(of parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "cannot be read"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return YAMLError(.memory, "out of memory", at: nil)
        case YAML_READER_ERROR:
            // The reader knows the byte, not the line: counted here.
            let value = parser.problem_value
            let shown =
                value >= 0 ? " (byte or character #x\(String(value, radix: 16, uppercase: true)))" : ""
            return YAMLError(.syntax, problem + shown, at: markOfByte(parser.problem_offset))
        default:
            return YAMLError(
                .syntax, problem, at: YAMLMark(parser.problem_mark),
                context: parser.context.map { String(cString: $0) },
                contextMark: parser.context == nil ? nil : YAMLMark(parser.context_mark))
        }
    }

    /// The line and column of a byte offset, broken as libyaml breaks lines; columns count characters.
    private func markOfByte(_ offset: Int) -> YAMLMark {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            var width = 1
            var isBreak = false
            if byte == 0x0A {
                isBreak = true
            } else if byte == 0x0D {
                isBreak = true
                if index + 1 < end && bytes[index + 1] == 0x0A { width = 2 }
            } else if byte == 0xC2 && index + 1 < end && bytes[index + 1] == 0x85 {
                isBreak = true
                width = 2
            } else if byte == 0xE2 && index + 2 < end && bytes[index + 1] == 0x80
                && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9)
            {
                isBreak = true
                width = 3
            } else if byte >= 0xC0 {
                width = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
            }
            if isBreak {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += width
        }
        return YAMLMark(line: line, column: column)
    }

    private func string(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
        pointer.map { String(decoding: UnsafeBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) }
    }
}

extension YAMLMark {
    fileprivate init(_ mark: yaml_mark_t) {
        self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}

extension YAMLScalar.Style {
    fileprivate init(_ style: yaml_scalar_style_t) {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: self = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: self = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: self = .literal
        case YAML_FOLDED_SCALAR_STYLE: self = .folded
        default: self = .plain
        }
    }
}

private func strlen(_ pointer: UnsafeMutablePointer<UInt8>) -> Int {
    var count = 0
    while pointer[count] != 0 { count += 1 }
    return count
}
