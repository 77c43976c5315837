/// Makes text from a log safe to show on a terminal.
///
/// Run names, file names, keys and values come from files anyone can write. An escape sequence in them
/// could move the cursor, change the title, or worse; so every control character (C0, DEL, C1) is shown as
/// a visible, inert escape (`\e`, `\x07`, `\u{9b}`) instead of being passed through.
public enum TerminalText {
    public static func inert(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar.value {
            case 0x1B: result += "\\e"
            case 0x09: result += "\\t"
            case 0x0A: result += "\\n"
            case 0x0D: result += "\\r"
            case 0..<0x80: result += "\\x" + hex(scalar.value, width: 2)
            default: result += "\\u{" + hex(scalar.value, width: 2) + "}"
            }
        }
        return result
    }

    /// C0 controls, DEL, C1 controls, and the Unicode bidirectional overrides that can reorder a line.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (v >= 0x7F && v < 0xA0) || (v >= 0x202A && v <= 0x202E)
            || (v >= 0x2066 && v <= 0x2069)
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
