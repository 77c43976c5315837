/// Follows stable-baselines3's console tables (`verbose=1`), which spread one record over many lines:
///
/// ```
/// ------------------------------------------
/// | rollout/                |              |
/// |    ep_len_mean          | 22.4         |
/// | time/                   |              |
/// |    total_timesteps      | 2048         |
/// | train/                  |              |
/// |    approx_kl            | 0.0089       |
/// ------------------------------------------
/// ```
///
/// SB3's `HumanOutputFormat.write` (stable_baselines3/common/logger.py) prints the logger's keys sorted, each
/// `section/name` key as a section row (`section/`, empty value) once, then `"   " + name` under it; a key
/// without `/` is printed as it is. Between two lines of dashes every line is such a row, so a table is
/// recognised by its content alone: a line of dashes, rows `| key | value |`, a line of dashes. The keys are
/// put back together (`train/approx_kl`), and the whole table is one record.
///
/// This is lower precision than SB3's other outputs: floats are printed `f"{v:<8.3g}"`, three significant
/// digits (`0.00891` where `progress.csv` holds `0.008912345`); integers such as `time/total_timesteps` are
/// printed whole. Keys longer than 36 characters are cut to 33 and `...` by SB3 and cannot be put back.
///
/// The state is a few bytes (the section, the key being built): a table's rows are handed out one at a time
/// and the caller keeps what it needs of them.
struct ConsoleTableParser: Sendable {
    /// What a line did to the table.
    enum Step {
        /// The line is no part of a table, and no table was open.
        case notATableLine
        /// The opening line of dashes.
        case opened
        /// A section row (`| train/ | |`), or a key row handed to `row`.
        case row
        /// The closing line of dashes: the rows since the opening one are a whole record.
        case closed
        /// A line that is no row came before the closing dashes: the open table (its opening line and
        /// `rows` rows) is given up, and the line itself is no part of it (read it as any other line).
        case brokenOff(rows: Int)
    }

    /// Whether a table's opening line of dashes was read and its closing one is still to come.
    private(set) var isOpen = false
    /// Rows read since the opening line.
    private(set) var rows = 0
    /// The current section (`train/`), empty before the first one.
    private var section: [UInt8] = []
    /// The whole key of the row being handed out (section + name), reused.
    private var key: [UInt8] = []

    /// The indentation SB3 puts before a key's name under its section row.
    private static let indent = 3
    /// The shortest line of dashes SB3 prints: `key_width + val_width + 7` with one-byte keys and values.
    private static let shortestRule = 9

    /// Reads the (cleaned) text in `range` of `t`, calling `row` with the whole key and the value's range of
    /// each key row.
    mutating func read(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
        row: (UnsafeRawBufferPointer, Range<Int>) -> Void
    ) -> Step {
        if Self.isRule(t, range) {
            guard isOpen, rows > 0 else {
                // A second line of dashes right after the first: the first opened nothing (SB3 never prints an
                // empty table), this one may open a table.
                open()
                return .opened
            }
            isOpen = false
            return .closed
        }
        guard isOpen else { return .notATableLine }
        guard let (name, value, indented) = Self.cells(t, range) else {
            let given = rows
            isOpen = false
            return .brokenOff(rows: given)
        }
        rows += 1
        let nameBytes = t[name]
        if !indented && value.isEmpty && nameBytes.last == UInt8(ascii: "/") {
            section.removeAll(keepingCapacity: true)
            section.append(contentsOf: nameBytes)
            return .row
        }
        key.removeAll(keepingCapacity: true)
        if indented { key.append(contentsOf: section) }
        key.append(contentsOf: nameBytes)
        key.withUnsafeBytes { row($0, value) }
        return .row
    }

    /// End of input, or a restart: an open table will not be closed.
    mutating func giveUp() -> Int? {
        guard isOpen else { return nil }
        isOpen = false
        return rows
    }

    private mutating func open() {
        isOpen = true
        rows = 0
        section.removeAll(keepingCapacity: true)
    }

    /// A line of nothing but dashes, as long as SB3's shortest.
    static func isRule(_ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        range.count >= shortestRule && t[range].allSatisfy { $0 == UInt8(ascii: "-") }
    }

    /// The name (trimmed), value (trimmed, maybe empty) and indentation of a row `| name | value |`, or nil
    /// for a line of another shape. The name ends at the first `" | "`: SB3's keys hold no `|`.
    static func cells(_ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> (Range<Int>, Range<Int>, Bool)?
    {
        let bar = UInt8(ascii: "|")
        let space = UInt8(ascii: " ")
        guard range.count >= 7, t[range.lowerBound] == bar, t[range.lowerBound + 1] == space,
            t[range.upperBound - 1] == bar, t[range.upperBound - 2] == space
        else { return nil }
        let inner = (range.lowerBound + 2)..<(range.upperBound - 2)
        var i = inner.lowerBound
        while i + 2 < inner.upperBound && !(t[i] == space && t[i + 1] == bar && t[i + 2] == space) { i += 1 }
        guard i + 2 < inner.upperBound else { return nil }
        let name = ConsoleText.trimmed(t, inner.lowerBound..<i)
        let value = ConsoleText.trimmed(t, (i + 3)..<inner.upperBound)
        guard !name.isEmpty, !t[value].contains(bar) else { return nil }
        let indented = name.lowerBound - inner.lowerBound >= indent
        return (name, value, indented)
    }
}
