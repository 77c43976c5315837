/// Gathers a dict printed over several lines after its header, as SkyRL's `ConsoleLogger.log`
/// (`skyrl/train/utils/tracking.py`) prints one step:
///
/// ```
/// 2026-08-21 18:02:38.123 | INFO     | skyrl.train.utils.tracking:log:189 - Step 3:
/// {'generate/avg_num_tokens': 312,
///  'loss/avg_kl': '0.0230',
///  'policy/policy_kl': '0.0012'}
/// ```
///
/// (`pprint.pformat` of the metrics, floats as `f"{v:.4f}"` strings; one line when it fits in 80
/// columns). The lines are joined with a space as they come and their brackets and quotes followed, so
/// each line costs its own length and the dict is parsed once, when its last bracket closes. A line
/// belongs to the dict if it comes from the header's process (the same Ray prefix, or none), and is the
/// first line and starts with `{`, or is indented (pformat indents every line after the first). Any
/// other line from that process ends the dict unclosed; lines of other processes are no part of it.
/// The text kept is at most `maxBytes`.
struct ConsoleDictCollector: Sendable {
    /// What a line did to the open dict.
    enum Take: Equatable {
        /// The line is no part of it (another process): read it on its own; the dict stays open.
        case notMine
        /// Taken; the dict is still open.
        case taken
        /// Taken, and the dict is closed: ``text`` holds it whole.
        case closed
        /// The dict will not be closed: the line is no part of it (read it on its own) unless
        /// `lineTaken`.
        case givenUp(lineTaken: Bool)
    }

    private(set) var isOpen = false
    private(set) var step: Int64 = 0
    /// The line of the header, where a dict given up is reported.
    private(set) var headerLine = 0
    /// Lines taken, the header included.
    private(set) var lines = 0
    /// The dict so far.
    private(set) var text: [UInt8] = []
    private var source: [UInt8] = []
    private var depth = 0
    private var quote: UInt8 = 0
    private var escaped = false
    let maxBytes: Int

    /// The longest Ray prefix kept to compare lines' sources.
    static let maxSourceBytes = 256

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// Bytes held for a dict not closed yet.
    var heldByteCount: Int { isOpen ? text.count + 1 : 0 }

    mutating func open(step: Int64, source: Slice<UnsafeBufferPointer<UInt8>>, line: Int) {
        isOpen = true
        self.step = step
        self.source.removeAll(keepingCapacity: true)
        self.source.append(contentsOf: source)
        headerLine = line
        lines = 1
        text.removeAll(keepingCapacity: true)
        depth = 0
        quote = 0
        escaped = false
    }

    /// Ends the dict, kept or not; the text stays until the next ``open(step:source:line:)``.
    mutating func close() { isOpen = false }

    /// Offers a (cleaned) line: `source` is its Ray prefix (empty for none), `content` its text without
    /// prefix and surrounding spaces, `indented` whether it had spaces before its text.
    mutating func take(
        _ t: UnsafeBufferPointer<UInt8>, source: Slice<UnsafeBufferPointer<UInt8>>, content: Range<Int>,
        indented: Bool
    ) -> Take {
        guard source.elementsEqual(self.source) else { return .notMine }
        if text.isEmpty {
            guard !content.isEmpty, t[content.lowerBound] == UInt8(ascii: "{"), !indented else {
                return .givenUp(lineTaken: false)
            }
        } else if !indented || content.isEmpty {
            return .givenUp(lineTaken: false)
        }
        lines += 1
        guard text.count + 1 + content.count <= maxBytes else { return .givenUp(lineTaken: true) }
        if !text.isEmpty { text.append(0x20) }
        for i in content {
            let c = t[i]
            text.append(c)
            if quote != 0 {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == quote {
                    quote = 0
                }
                continue
            }
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): quote = c
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        // A string never spans lines in pformat's output: a quote left open is a broken line.
        if quote != 0 || depth < 0 { return .givenUp(lineTaken: true) }
        return depth == 0 ? .closed : .taken
    }
}
