import Foundation
import RunLogs

/// Decimal-to-double conversion as every reader meets it: one-key JSON lines, so the line walk costs little
/// beside the number. `null` lines give about the walk's own cost. The checksum (wrapping sum of the bits)
/// must not change when the conversion does.
func benchNumbers() {
    let count = 1_000_000
    let series = klSeries(count: count)
    var state: UInt64 = 7
    func random() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    let kinds: [(String, [String])] = [
        ("null (walk, no number)", Array(repeating: "null", count: count)),
        ("KL values, Python repr", series.map { "\($0)" }),
        ("short (5.0, 1e-05, 123.0)", (0..<count).map { ["5.0", "1e-05", "123.0", "0.5", "42"][$0 % 5] }),
        (
            "random doubles, every magnitude",
            (0..<count).map { _ in
                var value = Double(bitPattern: random() & 0x7FFF_FFFF_FFFF_FFFF)
                while !value.isFinite { value = Double(bitPattern: random() & 0x7FFF_FFFF_FFFF_FFFF) }
                return "\(value)"
            }
        ),
        ("25 digits (beyond 19)", series.map { String(format: "%.24f", $0) }),
    ]
    print("numbers (one-key JSON lines through JSONLineScanner; \(count / 1_000_000)M lines per kind)")
    for (label, values) in kinds {
        let lines = values.map { Array("{\"kl\": \($0)}".utf8) }
        var checksum: UInt64 = 0
        let seconds = best(of: 3) {
            var scanner = JSONLineScanner(selection: .automatic)
            checksum = 0
            for line in lines {
                line.withUnsafeBufferPointer { buffer in
                    if case .sample(let sample) = scanner.scan(buffer) {
                        checksum &+= sample.value.bitPattern
                    }
                }
            }
        }
        print(
            "  \(label.padding(toLength: 34, withPad: " ", startingAt: 0)) "
                + "\(String(format: "%6.1f", seconds / Double(count) * 1e9)) ns/line   (checksum \(String(checksum, radix: 16)))"
        )
    }
}
