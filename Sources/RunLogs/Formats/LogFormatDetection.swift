extension LogFormat {
    /// Recognises a log's format from its first bytes (4 KiB is plenty), the file name serving only to break
    /// a tie (an empty file, a text too short to tell). Nil when it is none of them (binary data that is
    /// neither an event file nor a database, or an empty file with an unknown name).
    ///
    /// In order: SQLite's header string; a TFRecord header whose length CRC verifies; a pretty-printed JSON
    /// object holding `"log_history"` or `"best_metric"` (trainer_state.json); lines that are all JSON
    /// objects (JSON Lines); a header line of names followed by rows of as many cells (CSV); any other text
    /// (console output).
    public static func detect(path: String, firstBytes: [UInt8]) -> LogFormat? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if firstBytes.starts(with: Array("SQLite format 3\0".utf8)) { return .rlwatchStore }
        if firstBytes.count >= TensorBoardEventReader.headerBytes,
            firstBytes.withUnsafeBytes({ TensorBoardEventReader.headerVerifies($0.baseAddress!) })
        {
            return .tensorboard
        }
        // An event file too short to hold a header yet, or with a damaged first header (binary all the same).
        if byName(name) == .tensorboard
            && (firstBytes.count < TensorBoardEventReader.headerBytes || firstBytes.contains(0))
        {
            return .tensorboard
        }
        var text = firstBytes[...]
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        let lines = Self.completeLines(text)
        guard let first = lines.first(where: { !$0.isEmpty }) else { return byName(name) }
        if text.contains(0) { return nil }
        if first == Array("{".utf8)[...]
            && (contains(text, "\"log_history\"") || contains(text, "\"best_metric\""))
        {
            return .trainerState
        }
        let nonBlank = lines.filter { !$0.isEmpty }
        if first.starts(with: "{\"".utf8) || first.starts(with: "{ \"".utf8),
            nonBlank.allSatisfy({ $0.first == UInt8(ascii: "{") })
        {
            return .jsonl
        }
        if looksLikeCSV(nonBlank, nameSaysCSV: name.lowercased().hasSuffix(".csv")) { return .csv }
        if name == "trainer_state.json" && first == Array("{".utf8)[...] { return .trainerState }
        return .console
    }

    /// What the name alone suggests, for a file with nothing to read yet.
    static func byName(_ name: String) -> LogFormat? {
        let lower = name.lowercased()
        if lower.hasPrefix("events.out.tfevents") { return .tensorboard }
        if lower == "trainer_state.json" { return .trainerState }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl }
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".db") || lower.hasSuffix(".sqlite") { return .rlwatchStore }
        if lower.hasSuffix(".log") || lower.hasSuffix(".txt") || lower.hasSuffix(".out") { return .console }
        return nil
    }

    /// The lines of `text`, trimmed of spaces and `\r`; a last line without newline is included only when it
    /// is the only one (a short file).
    private static func completeLines(_ text: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.count > 1 && text.last != UInt8(ascii: "\n") { lines.removeLast() }
        return lines.map { line in
            var line = line
            while let last = line.last, last == 0x0D || last == 0x20 || last == 0x09 {
                line = line.dropLast()
            }
            while let first = line.first, first == 0x20 || first == 0x09 { line = line.dropFirst() }
            return line
        }
    }

    /// A header of two or more column names (each starting with a letter, `_` or a quote; no braces) and
    /// rows of as many cells. One line alone passes only with a `.csv` name.
    private static func looksLikeCSV(_ lines: [ArraySlice<UInt8>], nameSaysCSV: Bool) -> Bool {
        guard let header = lines.first else { return false }
        let names = header.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard names.count >= 2 else { return false }
        for cell in names {
            guard let first = cell.first,
                first == UInt8(ascii: "\"") || first == UInt8(ascii: "_")
                    || (first | 0x20 >= UInt8(ascii: "a") && first | 0x20 <= UInt8(ascii: "z"))
            else { return false }
            if cell.contains(UInt8(ascii: "{")) || cell.contains(UInt8(ascii: "}")) || cell.contains(0x09) {
                return false
            }
        }
        let rows = lines.dropFirst()
        if rows.isEmpty { return nameSaysCSV }
        return rows.allSatisfy { row in
            row.contains(UInt8(ascii: "\""))  // quoted cells may hold commas: do not count them
                || row.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).count
                    == names.count
        }
    }

    private static func contains(_ text: ArraySlice<UInt8>, _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard text.count >= needle.count else { return false }
        var i = text.startIndex
        while i + needle.count <= text.endIndex {
            if text[i] == needle[0] && text[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
