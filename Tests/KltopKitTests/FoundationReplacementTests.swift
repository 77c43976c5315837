import Foundation
import Testing

@testable import KltopKit

/// What KltopKit does on the C library now gives what Foundation gave it before (Foundation is still there
/// for the tests, to compare with).
@Suite struct FoundationReplacementTests {
    /// The webhook template check answers as JSONSerialization with `.fragmentsAllowed` did, but for
    /// trailing commas and a byte order mark, which JSONSerialization let through and rlwatch's `json.loads`
    /// (so the template's receiver, most likely) refuses: JSON as RFC 8259 has it.
    @Test func jsonCheckAgreesWithJSONSerialization() {
        let lenientInFoundation = ["{\"a\": 1,}", "[1,]", "\u{FEFF}{}"]
        for text in lenientInFoundation {
            #expect(
                (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
                    != nil)
            #expect(!JSONCheck.isJSON(text), "\(text)")
        }
        let texts = [
            "{}", "[]", " {\"a\": [1, 2.5, -0.0, 1e5, 1E-5, true, false, null]}\n", "\"text\"", "12", "-0",
            "{\"a\": \"\\u00e9\\n\\\"\\\\\\/\\b\\f\\r\\t\"}", "\"\\ud83d\\ude00\"", "", " ", "{", "{\"a\" 1}",
            "[1 2]", "01", "1.", ".5", "+1", "1e", "-", "tru", "nul", "NaN",
            "Infinity", "{'a': 1}", "{a: 1}", "\"tab\there\"", "\"\\x41\"", "\"\\u12\"", "[1]]", "{} {}",
            "\"é\"", "{\"step\": ${step}}", "[\"unterminated]",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ]
        for text in texts {
            let foundation =
                (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
                != nil
            #expect(JSONCheck.isJSON(text) == foundation, "\(text.prefix(40))")
        }
    }

    @Test func base64AgreesWithData() {
        for text in ["", "a", "ab", "abc", "abcd", "KL divergence explosion — Run “r1” 🚨", "\u{0}\u{FF}"] {
            #expect(Base64.encode(text.utf8) == Data(text.utf8).base64EncodedString(), "\(text)")
        }
    }

    @Test func cFormatAgreesWithStringFormat() {
        for value in [0.0, -0.0, 1, 0.01142, 17_320.5, 1e-300, 1.7976931348623157e308, 3 * 0.025, -2.5e-7] {
            for format in ["%.4g", "%.12g", "%.1f", "%.24f"] {
                #expect(cFormat(value, format) == String(format: format, value), "\(format) \(value)")
            }
        }
    }

    @Test func trimmingAgreesWithFoundationsWhitespaces() {
        for text in ["  a@b.c ", "\ta@b.c\u{3000}", "\u{A0}x y\u{2009}", "", "   ", "\nx\n", "x"] {
            #expect(
                Substring(text).trimmingSpaces == text.trimmingCharacters(in: .whitespaces),
                "\(text.debugDescription)")
        }
    }

    @Test func textFilesAreReadOrRefusedInTheOldWords() throws {
        let directory = NSTemporaryDirectory() + "kltop-textfile-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/a.yaml"
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect(try TextFile.read(file).get() == bytes)
        #expect(TextFile.read(directory) == .failure(.isADirectory))
        #expect(TextFile.read(directory + "/missing") == .failure(.noSuchFile))
        #expect(TextFile.read(file + "/below") == .failure(.noSuchFile))
        #expect(
            TextFile.exists(file) && TextFile.exists(directory) && !TextFile.exists(directory + "/missing"))
        if getuid() != 0 {
            chmod(file, 0)
            #expect(TextFile.read(file) == .failure(.cannotBeRead))
        }
    }
}
