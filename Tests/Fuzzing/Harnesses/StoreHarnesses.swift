import RunLogs

/// The harnesses of the stores' parsing: the lines of an MLflow file store's metric files, and the rows of
/// the SQLite stores (a Trackio row's JSON, an MLflow row's value and `is_nan`).
enum StoreHarnesses {
    /// The input as a metric file of MLflow's file store.
    ///
    /// Promises: however the file is cut into pieces (as a follower finds it while MLflow appends), the
    /// same outcomes; every complete non-blank line is one sample or one bad line, and an unterminated last
    /// line is none yet; a line of the form MLflow writes (`<digits> <number> <digits>`) is the sample
    /// that Swift's own `Double(String)` and `Int64(String)` read.
    static func mlflowMetricLines(_ input: [UInt8]) throws(InvariantViolation) {
        func outcomes(_ cuts: [Int]) -> [MLflowMetricLines.Outcome] {
            var lines = MLflowMetricLines()
            var result: [MLflowMetricLines.Outcome] = []
            var start = 0
            for end in cuts + [input.count] {
                input[start..<end].withUnsafeBufferPointer { lines.feed($0) { result.append($0) } }
                start = end
            }
            return result
        }
        let whole = outcomes([])
        var cuts = [input.count / 2, input.count / 3, (input.count * 7) / 8, 1].filter { $0 <= input.count }
        if let newline = input.firstIndex(of: 0x0A) { cuts.append(newline) }
        for cut in cuts {
            let pieces = outcomes([cut])
            try require(
                same(pieces, whole), "cut at \(cut): \(pieces.count) outcomes, \(whole.count) read whole")
        }
        try require(same(outcomes(Array(0...input.count)), whole), "fed a byte at a time: other outcomes")

        var lines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
        lines.removeLast()  // the unterminated rest (empty when the input ends in a newline)
        let blank = lines.filter { line in line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }.count
        try require(
            whole.count == lines.count - blank,
            "\(lines.count) lines (\(blank) blank) gave \(whole.count) outcomes")
        var outcome = whole.makeIterator()
        for line in lines where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            let read = outcome.next()
            let fields = line.split(separator: 0x20, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard fields.count == 3, fields[0].allSatisfy(\.isASCII), Int64(fields[0]) != nil,
                fields[1].allSatisfy({ "0123456789.e-+".contains($0) }), let value = Double(fields[1]),
                let step = Int64(fields[2])
            else { continue }
            guard case .sample(let sample)? = read else {
                throw InvariantViolation(
                    "\"\(fields.joined(separator: " "))\" was not read: \(String(describing: read))")
            }
            try require(
                sample.step == step && sample.value.bitPattern == value.bitPattern,
                "\"\(fields.joined(separator: " "))\" read as \(sample)")
        }
    }

    /// The input's lines as the `metrics` JSON of Trackio rows (step = the row's number), and its 8-byte
    /// words as MLflow `value`s.
    ///
    /// Promises: each row is one outcome, the same as the JSON Lines scanner's for the line, with the row's
    /// step (never the JSON's); an MLflow value is itself (NaN where `is_nan` says so, ±infinity for
    /// MLflow's ±1.7976931348623157e308).
    static func storeRows(_ input: [UInt8]) throws(InvariantViolation) {
        var rows = TrackioRows(selection: .automatic)
        var scanner = JSONLineScanner(selection: .automatic)
        for (number, line) in input.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let step = Int64(number) * 10 + 7
            let row = Array(line).withUnsafeBufferPointer { rows.read(json: $0, step: step) }
            let line = Array(line).withUnsafeBufferPointer { scanner.scan($0) }
            switch (row, line) {
            case (.sample(let a), .sample(let b)):
                try require(
                    a.step == step && a.value.bitPattern == b.value.bitPattern, "row \(number): \(a) for \(b)"
                )
            default:
                try require(row == line, "row \(number): \(row), the scanner \(line)")
            }
            try require(
                rows.chosenKey == scanner.chosenKey,
                "row \(number): key \(String(describing: rows.chosenKey))")
        }
        var offset = 0
        while offset + 8 <= input.count {
            let bits = input[offset..<(offset + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let value = Double(bitPattern: bits)
            let isNaN = input[offset] & 1 == 1
            let sample = MLflowStoreReader.sample(step: Int64(offset), value: value, isNaN: isNaN)
            guard let sample else { throw InvariantViolation("a number read as no sample") }
            if isNaN {
                try require(sample.value.isNaN, "is_nan read as \(sample.value)")
            } else if abs(value) == .greatestFiniteMagnitude {
                try require(sample.value == value.sign.infinity, "MLflow's \(value) read as \(sample.value)")
            } else {
                try require(sample.value.bitPattern == bits, "\(value) read as \(sample.value)")
            }
            offset += 8
        }
        try require(
            MLflowStoreReader.sample(step: 0, value: nil, isNaN: false) == nil, "NULL read as a number")
    }

    private static func same(_ a: [MLflowMetricLines.Outcome], _ b: [MLflowMetricLines.Outcome]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                switch (x, y) {
                case (.sample(let p), .sample(let q)):
                    p.step == q.step && p.value.bitPattern == q.value.bitPattern
                default: x == y
                }
            }
    }
}

extension FloatingPointSign {
    fileprivate var infinity: Double { self == .minus ? -.infinity : .infinity }
}
