import RunLogs

/// Whether text is one JSON value (RFC 8259; a bare string or number too, as JSONSerialization's
/// `.fragmentsAllowed` took it): what a webhook template must make once its fields are put in. Stricter
/// than JSONSerialization was on trailing commas and a byte order mark, which rlwatch's `json.loads`
/// refuses too; like it on `NaN`, which `json.loads` would take but a JSON receiver need not.
enum JSONCheck {
    /// Nesting deeper than this is refused, as JSONSerialization refused it.
    static let maximumDepth = 512

    static func isJSON(_ text: String) -> Bool {
        JSONValue.parse(text.utf8, maximumDepth: maximumDepth, loneSurrogates: .refused) != nil
    }
}

/// Base64 (RFC 4648, with padding), for RFC 2047 encoded words.
enum Base64 {
    private static let alphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let bytes = Array(bytes)
        var result: [UInt8] = []
        result.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group: UInt32 = 0
            for offset in 0..<3 {
                group = group << 8 | UInt32(offset < count ? bytes[index + offset] : 0)
            }
            for position in 0..<4 {
                if position <= count {
                    result.append(alphabet[Int(group >> UInt32(18 - 6 * position) & 0x3F)])
                } else {
                    result.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: result, as: UTF8.self)
    }
}
