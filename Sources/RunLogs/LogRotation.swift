/// The names a log's older parts are given when it is rotated, by logrotate and by loggers that rotate
/// their own files (Python's `RotatingFileHandler`): `train.log.1`, `train.log.2.gz`, and with logrotate's
/// `dateext`, `train.log-20261205[.gz]`. A log and its rotations are one run.
public enum LogRotation {
    /// How old a rotation is: dated ones by their date, numbered ones by their number (`.1` is the newest
    /// after the live log). Dated rotations sort before numbered ones: a folder seldom holds both, and
    /// when it does the dated ones are from before the numbering was configured.
    public enum Age: Comparable, Sendable {
        case dated(String)
        case numbered(Int)

        /// Older first.
        public static func < (a: Age, b: Age) -> Bool {
            switch (a, b) {
            case (.dated(let x), .dated(let y)): x < y
            case (.numbered(let x), .numbered(let y)): x > y
            case (.dated, .numbered): true
            case (.numbered, .dated): false
            }
        }
    }

    /// A file name split into the live log's name and the rotation's age, or nil when it names no rotation
    /// (`train.log.2.gz` → `train.log`, numbered 2). Whether the live name is a run log is the caller's
    /// judgement: `model.pt.1` is a rotation of no run log.
    public static func parse(_ name: String) -> (live: String, age: Age)? {
        // An event file's name ends in numbers of its own (`…tfevents.1700000000.host.4242.1`).
        guard !name.hasPrefix("events.out.tfevents.") else { return nil }
        let name = Compression.strippingSuffix(name)
        if let dot = name.lastIndex(of: "."), case let digits = name[name.index(after: dot)...],
            (1...4).contains(digits.count), digits.allSatisfy(\.isASCIIDigit), let number = Int(digits),
            number >= 1, dot != name.startIndex
        {
            return (String(name[..<dot]), .numbered(number))
        }
        if let dash = name.lastIndex(of: "-"), case let digits = name[name.index(after: dash)...],
            (8...14).contains(digits.count), digits.allSatisfy(\.isASCIIDigit), dash != name.startIndex,
            digits.hasPrefix("19") || digits.hasPrefix("20")
        {
            return (String(name[..<dash]), .dated(String(digits)))
        }
        return nil
    }

    /// The name a log is recognised by, for its format and its run's name: without a compression suffix,
    /// and for a rotation, the live log's (`train.jsonl.2.gz` → `train.jsonl`).
    public static func baseName(_ name: String) -> String {
        parse(name)?.live ?? Compression.strippingSuffix(name)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
