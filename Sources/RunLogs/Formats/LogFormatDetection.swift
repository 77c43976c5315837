extension LogFormat {
    /// Recognises a log's format from its first bytes, the file name serving only where the content cannot
    /// say (an empty file), and for JSON Lines (below). Nil when it is none of them (binary data that is
    /// neither an event file nor a database, or an empty file with an unknown name).
    ///
    /// In order: SQLite's header string; W&B's transaction log header (`:W&B`, 0xBEE1); SwanLab's run file
    /// header (`:SWL`, 0xE1D6); a TFRecord header
    /// whose length CRC verifies; a pretty-printed JSON
    /// object holding `"log_history"` or `"best_metric"` (trainer_state.json); JSON Lines; binary data; a
    /// header line of names followed by rows of as many cells (CSV); any other text (console output).
    ///
    /// JSON Lines is decided by the lines that parse, so that one stray line near the top (a banner, binary
    /// garbage, a region of NULs a crash left) cannot change how the whole file is read: a log whose lines
    /// are mostly JSON objects is JSON Lines, and its other lines are bad lines, counted and reported. A
    /// `.jsonl` or `.ndjson` name decides when the content is mixed or not yet telling. A console log that
    /// prints a few JSON lines among its text stays console output.
    public static func detect(path: String, firstBytes: [UInt8]) -> LogFormat? {
        detection(path: path, firstBytes: firstBytes).format
    }

    /// What ``detect(path:firstBytes:)`` decided, and whether more lines could still change it: a live
    /// log's first bytes are judged as soon as they are telling, not before.
    struct Detection {
        var format: LogFormat?
        var isSettled: Bool
    }

    /// Lines that hold their format for sure before deciding on mixed text: enough that a leading banner
    /// or two cannot outvote the records after them.
    static let linesToSettle = 16

    static func detection(path: String, firstBytes: [UInt8]) -> Detection {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if firstBytes.starts(with: Array("SQLite format 3\0".utf8)) {
            return Detection(format: .rlwatchStore, isSettled: true)
        }
        if WandbTransactionLogReader.headerMatches(firstBytes) {
            return Detection(format: .wandb, isSettled: true)
        }
        // A W&B run file too short to hold its header yet, or with a damaged one (binary all the same): its
        // reader resynchronises on the blocks after it.
        if byName(name) == .wandb && (firstBytes.count < 6 || firstBytes.contains(0)) {
            return Detection(format: .wandb, isSettled: true)
        }
        if SwanlabRunFileReader.headerMatches(firstBytes) {
            return Detection(format: .swanlab, isSettled: true)
        }
        // The same for a SwanLab run file: swanlab writes nothing to it until Python's buffer fills.
        if byName(name) == .swanlab && (firstBytes.count < 6 || firstBytes.contains(0)) {
            return Detection(format: .swanlab, isSettled: true)
        }
        if firstBytes.count >= TensorBoardEventReader.headerBytes,
            firstBytes.withUnsafeBytes({ TensorBoardEventReader.headerVerifies($0.baseAddress!) })
        {
            return Detection(format: .tensorboard, isSettled: true)
        }
        // An event file too short to hold a header yet, or with a damaged first header (binary all the same).
        if byName(name) == .tensorboard
            && (firstBytes.count < TensorBoardEventReader.headerBytes || firstBytes.contains(0))
        {
            return Detection(format: .tensorboard, isSettled: true)
        }
        var text = firstBytes[...]
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        let lines = Self.completeLines(text)
        let nonBlank = lines.filter { !$0.isEmpty }
        guard let first = nonBlank.first else { return Detection(format: byName(name), isSettled: false) }
        if first == Array("{".utf8)[...]
            && (contains(text, "\"log_history\"") || contains(text, "\"best_metric\""))
        {
            return Detection(format: .trainerState, isSettled: true)
        }
        // Text is only judged on complete lines: a live log's first chunk can be half of one.
        let hasCompleteLine = text.contains(UInt8(ascii: "\n"))
        let tally = LineTally(nonBlank, lastIsComplete: hasCompleteLine)
        let enough = hasCompleteLine && nonBlank.count >= linesToSettle
        if byName(name) == .jsonl { return Detection(format: .jsonl, isSettled: hasCompleteLine) }
        if tally.objects > tally.others {
            return Detection(format: .jsonl, isSettled: hasCompleteLine && tally.others == 0 || enough)
        }
        if tally.binary > tally.others - tally.binary { return Detection(format: nil, isSettled: enough) }
        if looksLikeCSV(nonBlank, nameSaysCSV: name.lowercased().hasSuffix(".csv")) {
            return Detection(format: .csv, isSettled: hasCompleteLine && nonBlank.count >= 2)
        }
        if name == "trainer_state.json" && first == Array("{".utf8)[...] {
            return Detection(format: .trainerState, isSettled: hasCompleteLine)
        }
        return Detection(format: .console, isSettled: enough)
    }

    /// The lines of a sniffed text by what they are: JSON objects (each one scanned as the JSON Lines
    /// reader will), lines holding NUL bytes (binary), and the rest.
    struct LineTally {
        var objects = 0
        var binary = 0
        /// Every line that is not a JSON object, binary ones included.
        var others = 0

        /// A last line without its newline may be a record cut off by the sniffing, not a bad one: it counts
        /// as an object if it starts like one.
        init(_ lines: [ArraySlice<UInt8>], lastIsComplete: Bool) {
            var scanner = JSONLineScanner(selection: .automatic)
            for (index, line) in lines.enumerated() {
                let isObject: Bool
                if index == lines.count - 1 && !lastIsComplete {
                    isObject = line.starts(with: "{\"".utf8) || line.starts(with: "{ \"".utf8)
                } else {
                    isObject = line.withUnsafeBufferPointer { bytes in
                        switch scanner.scan(bytes) {
                        case .sample, .missingValue, .noMetric: true
                        case .bad, .blank: false
                        }
                    }
                }
                if isObject {
                    objects += 1
                } else {
                    others += 1
                    if line.contains(0) { binary += 1 }
                }
            }
        }
    }

    /// Which store an SQLite database is, told by its tables: MLflow's has `experiments`, `runs` and
    /// `metrics` keyed by `run_uuid`; a Trackio project's `metrics` has `run_name`; rlwatch's has `runs` and
    /// `metrics` keyed by `run_id`. Nil for a database that is none of them (or has no `metrics` yet).
    public static func storeFormat(tables: Set<String>, metricsColumns: Set<String>) -> LogFormat? {
        guard tables.contains("metrics") else { return nil }
        if tables.contains("experiments") && tables.contains("runs") && metricsColumns.contains("run_uuid") {
            return .mlflowStore
        }
        if metricsColumns.contains("run_name") && metricsColumns.contains("metrics") { return .trackioStore }
        if tables.contains("runs") && metricsColumns.contains("run_id") { return .rlwatchStore }
        return nil
    }

    /// What the name alone suggests, for a file with nothing to read yet.
    static func byName(_ name: String) -> LogFormat? {
        let lower = name.lowercased()
        if lower.hasPrefix("events.out.tfevents") { return .tensorboard }
        if lower.hasSuffix(".wandb") { return .wandb }
        if lower.hasSuffix(".swanlab") { return .swanlab }
        if lower == "trainer_state.json" { return .trainerState }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl }
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".db") || lower.hasSuffix(".sqlite") { return .rlwatchStore }
        if lower.hasSuffix(".log") || lower.hasSuffix(".txt") || lower.hasSuffix(".out") { return .console }
        return nil
    }

    /// The lines of `text`, trimmed of spaces and `\r`; a last line without newline is included only when it
    /// is the only one (a short file, or one line longer than what was sniffed).
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
        for (index, cell) in names.enumerated() {
            // pandas' `to_csv` leaves the index column's name empty.
            if index == 0 && cell.isEmpty { continue }
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
        // Quoted cells may hold commas: a row with quotes is not counted.
        let cellCounts = rows.map { row in
            row.contains(UInt8(ascii: "\""))
                ? names.count
                : row.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).count
        }
        if cellCounts.allSatisfy({ $0 == names.count }) { return true }
        // A log named CSV may have rows with fewer cells too: a look at stable-baselines3's file while it
        // rewrites it in place finds new rows, a torn one, then old rows from before a key was added.
        return nameSaysCSV && cellCounts.contains(names.count) && cellCounts.allSatisfy { $0 <= names.count }
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
