/// Finds where one JSON document ends, as its bytes arrive, without parsing it.
///
/// A file rewritten whole (trainer_state.json) can only be parsed once all of it is there; parsing it again
/// on every new piece would cost the square of its size. This follows only brackets and strings, byte by
/// byte, so that each byte is looked at once: the document is complete when the bracket opened by its first
/// byte closes.
struct JSONDocumentBoundary: Sendable {
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// The first non-space byte has been seen (and was `{` or `[`).
    private(set) var hasStarted = false
    /// The first non-space byte was not `{` or `[`: not a JSON document kltop can read.
    private(set) var isNotADocument = false

    /// Reads `count` more bytes; returns the index just past the document's end if it ends among them.
    mutating func feed(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        var i = 0
        while i < count {
            let c = p[i]
            i += 1
            if !hasStarted {
                // Anything but spaces before the first bracket (a stray `}`, a string) means this is not a
                // document; skipping it instead made the document depend on how the bytes arrived, as the
                // reader keeps the bytes only from the chunk in which the document starts.
                switch c {
                case 0x20, 0x09, 0x0A, 0x0D:
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    hasStarted = true
                    depth = 1
                    continue
                default:
                    isNotADocument = true
                    return i
                }
            }
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch c {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return i }
            default:
                continue
            }
        }
        return nil
    }
}
