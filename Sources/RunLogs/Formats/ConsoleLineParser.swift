/// Recognises the metrics lines RL trainers print among everything else on their console.
///
/// The rule that keeps decoys out: a line is a record only if the record makes up the WHOLE line, once
/// terminal escapes, Ray's `(Actor pid=N)` prefix and surrounding spaces are taken off, and a logging
/// header before it (below). A dict quoted inside a warning, an exception message, a traceback or a
/// tokenizer sample is part of a longer line, so it is never one. The shapes, each checked against its
/// writer's source:
/// - transformers / TRL: the line is a dict literal, `{'loss': '0.0113', 'kl': '0.0021', 'epoch': '0.01'}`.
/// - veRL (`concat_dict_to_str`): `step:12 - actor/kl_loss:np.float64(0.0013) - ...`; the separator is
///   exactly `" - "`, and a key ends at the last `:` of its pair.
/// - OpenRLHF: `[✨ ]Global step 12: {...}`, the dict running to the line's end.
/// - torchtune's `DiskLogger` and `StdoutLogger` (`torchtune/training/metric_logging.py`, `log_dict`:
///   `f"Step {step} | "`, then `f"{name}:{data} "` per key): `Step 12 | loss:0.31 kl_loss:tensor(0.0230,
///   device='cuda:0') `. Pairs are split at spaces outside brackets and quotes (a tensor's repr has one); a
///   key ends at its first `:`.
/// - ROLL's `StdoutTracker.log` (`roll/utils/tracking.py`): `metrics_tag: {"step": 12, "metrics": {...}}`,
///   JSON; the record is the `metrics` object, its step the `step` (null: none).
/// - slime (`slime/backends/megatron_utils/model.py`, `logger.info(f"{role_tag}step {accumulated_step_id}:
///   {log_dict}")`): `step 12: {...}`, one per train step, holding the KL keys (`train/kl_loss`,
///   `train/ppo_kl`). slime's FSDP actor (until March 2026) printed `rollout 3: {...}` per rollout, keyed by
///   rollout id, with no KL key (`rollout/log_probs`, `rollout/ref_log_probs`, ...): read as a record with
///   that step, so the automatic series is the train-step one, and `--metric rollout/raw_reward` gives the
///   rollout series. The critic's `critic-step N:` lines are not read.
/// - SkyRL's `ConsoleLogger.log` (`skyrl/train/utils/tracking.py`): `logger.info(f"Step {step}: \n{data}")`,
///   the data `pprint.pformat`ted over the lines after it: ``Shape/dictFollows(step:)``.
///
/// Before the record there is nothing, or a logging header: one that ends in `] ` (Python logging with a
/// bracketed format: OpenRLHF's `[INFO date time file:line] `, ROLL's `[date] [file (line)] [INFO] [DRIVER
/// 0 / 1][PID 4242] `) or in a source line `:N - ` (slime's `[date] model.py:916 - `, loguru's `date |
/// INFO     | module:function:189 - `, which SkyRL uses).
enum ConsoleLineParser {
    enum Shape: Equatable {
        /// A record; its step if the line states one (veRL, OpenRLHF, torchtune, ROLL, slime).
        case record(step: Int64?)
        /// A header whose record is the dict printed on the lines after it (SkyRL's `Step N:`).
        case dictFollows(step: Int64)
        /// Starts like a record but is not a well-formed one.
        case malformed(String)
        /// Anything else a training script prints.
        case notARecord
    }

    /// Classifies the text in `range` of `t`, calling `entry` with each key and value of a record (also for
    /// entries of a line later found malformed: use them only for `.record`).
    static func parse(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape {
        guard !range.isEmpty else { return .notARecord }
        if t[range.lowerBound] == UInt8(ascii: "{") {
            if let problem = PythonLiteral.forEachDictEntry(t, range, entry) { return .malformed(problem) }
            return .record(step: nil)
        }
        if starts(t, range, with: "step:") { return verl(t, range, entry) }
        if let shape = message(t, range, entry) { return shape }
        // The message may start after a logging header: after each `] `, and after each `:N - `.
        var i = range.lowerBound + 1
        let n = range.upperBound
        while i + 1 < n {
            let c = t[i]
            if c == UInt8(ascii: "]") && t[i + 1] == 0x20 {
                if let shape = message(t, (i + 2)..<n, entry) { return shape }
            } else if c == UInt8(ascii: "-") && t[i - 1] == 0x20 && t[i + 1] == 0x20
                && endsInSourceLine(t, i - 1)
            {
                if let shape = message(t, (i + 2)..<n, entry) { return shape }
            }
            i += 1
        }
        return .notARecord
    }

    /// Whether the text before `end` ends in `:` and digits (a logging header's line number).
    private static func endsInSourceLine(_ t: UnsafeBufferPointer<UInt8>, _ end: Int) -> Bool {
        var j = end - 1
        while j >= 0 && isDigit(t[j]) { j -= 1 }
        return j < end - 1 && j >= 0 && t[j] == UInt8(ascii: ":")
    }

    /// The shape of a message that starts at `range`'s start; nil if it starts like none of the records.
    private static func message(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape? {
        guard range.count >= 6 else { return nil }
        switch t[range.lowerBound] {
        case UInt8(ascii: "G"), 0xE2:
            return openRLHF(t, range, entry)
        case UInt8(ascii: "m"):
            guard starts(t, range, with: "metrics_tag: ") else { return nil }
            return roll(t, (range.lowerBound + 13)..<range.upperBound, entry)
        case UInt8(ascii: "s"):
            guard starts(t, range, with: "step ") else { return nil }
            return slime(t, range, after: 5, entry)
        case UInt8(ascii: "r"):
            guard starts(t, range, with: "rollout ") else { return nil }
            return slime(t, range, after: 8, entry)
        case UInt8(ascii: "S"):
            guard starts(t, range, with: "Step ") else { return nil }
            return torchtuneOrSkyRL(t, range, entry)
        default:
            return nil
        }
    }

    /// The digits at `i`, as a step; `i` is moved past them.
    private static func digits(_ t: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ n: Int) -> Int64? {
        let start = i
        while i < n && isDigit(t[i]) { i += 1 }
        guard i > start, i - start <= 18 else { return nil }
        return PythonLiteral.integer(t, start..<i)
    }

    /// `step N: {...}` or `rollout N: {...}` (slime), the dict running to the end.
    private static func slime(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, after prefix: Int,
        _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape? {
        var i = range.lowerBound + prefix
        guard let step = digits(t, &i, range.upperBound), i < range.upperBound, t[i] == UInt8(ascii: ":")
        else { return nil }
        let dict = ConsoleText.trimmed(t, (i + 1)..<range.upperBound)
        guard !dict.isEmpty, t[dict.lowerBound] == UInt8(ascii: "{") else { return nil }
        if let problem = PythonLiteral.forEachDictEntry(t, dict, entry) { return .malformed(problem) }
        return .record(step: step)
    }

    /// `Step N | key:value key:value ` (torchtune), `Step N:` alone (SkyRL's header, its dict on the lines
    /// after it), or `Step N: {...}` on one line.
    private static func torchtuneOrSkyRL(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape? {
        let n = range.upperBound
        var i = range.lowerBound + 5
        guard let step = digits(t, &i, n), i < n else { return nil }
        if t[i] == UInt8(ascii: ":") {
            let rest = ConsoleText.trimmed(t, (i + 1)..<n)
            if rest.isEmpty { return .dictFollows(step: step) }
            guard t[rest.lowerBound] == UInt8(ascii: "{") else { return nil }
            if let problem = PythonLiteral.forEachDictEntry(t, rest, entry) { return .malformed(problem) }
            return .record(step: step)
        }
        guard i + 3 <= n, t[i] == 0x20, t[i + 1] == UInt8(ascii: "|"), t[i + 2] == 0x20 else { return nil }
        return torchtunePairs(t, ConsoleText.trimmed(t, (i + 3)..<n), step: step, entry)
    }

    /// `key:value` pairs separated by spaces outside brackets and quotes. A first pair without `:` is no
    /// torchtune line (prime-rl prints `Step 3 |  1.20s | Loss 0.1234 | ...`).
    private static func torchtunePairs(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, step: Int64,
        _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape? {
        guard !range.isEmpty else { return nil }
        var i = range.lowerBound
        let n = range.upperBound
        var first = true
        while i < n {
            let start = i
            var colon: Int?
            var depth = 0
            while i < n {
                let c = t[i]
                if PythonLiteral.isQuote(c) {
                    var j = i + 1
                    while j < n && t[j] != c { j += t[j] == UInt8(ascii: "\\") ? 2 : 1 }
                    i = min(j + 1, n)
                    continue
                }
                if depth == 0 && ConsoleText.isSpace(c) { break }
                switch c {
                case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
                case UInt8(ascii: ":") where depth == 0 && colon == nil: colon = i
                default: break
                }
                i += 1
            }
            guard let colon else {
                if first { return nil }
                return .malformed("a pair without ':'")
            }
            first = false
            guard colon > start, colon + 1 < i else { return .malformed("a pair without key or value") }
            entry(start..<colon, (colon + 1)..<i)
            while i < n && ConsoleText.isSpace(t[i]) { i += 1 }
        }
        return .record(step: step)
    }

    /// ROLL's `{"step": N, "metrics": {...}}`: the entries of `metrics`, the step of `step`.
    private static func roll(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape? {
        let dict = ConsoleText.trimmed(t, range)
        guard !dict.isEmpty, t[dict.lowerBound] == UInt8(ascii: "{") else { return nil }
        var stepValue: Range<Int>?
        var metrics: Range<Int>?
        if let problem = PythonLiteral.forEachDictEntry(
            t, dict,
            { key, value in
                if t[key].elementsEqual("step".utf8) {
                    stepValue = value
                } else if t[key].elementsEqual("metrics".utf8) {
                    metrics = value
                }
            })
        {
            return .malformed(problem)
        }
        guard let metrics, t[metrics.lowerBound] == UInt8(ascii: "{") else {
            return .malformed("no metrics object")
        }
        if let problem = PythonLiteral.forEachDictEntry(t, metrics, entry) { return .malformed(problem) }
        return .record(step: stepValue.flatMap { PythonLiteral.integer(t, $0) })
    }

    private static func verl(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape {
        let separator = Array(" - ".utf8)
        var pairs: [Range<Int>] = []
        var start = range.lowerBound
        var i = start
        while i + separator.count <= range.upperBound {
            if t[i] == separator[0] && t[i + 1] == separator[1] && t[i + 2] == separator[2] {
                pairs.append(start..<i)
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        pairs.append(start..<range.upperBound)
        let stepText = ConsoleText.trimmed(t, (range.lowerBound + 5)..<pairs[0].upperBound)
        guard !stepText.isEmpty,
            stepText.allSatisfy({ t[$0] >= UInt8(ascii: "0") && t[$0] <= UInt8(ascii: "9") }),
            let step = PythonLiteral.integer(t, stepText)
        else { return .notARecord }
        for pair in pairs.dropFirst() {
            guard let colon = t[pair].lastIndex(of: UInt8(ascii: ":")) else {
                return .malformed("a pair without ':'")
            }
            let key = ConsoleText.trimmed(t, pair.lowerBound..<colon)
            let value = ConsoleText.trimmed(t, (colon + 1)..<pair.upperBound)
            guard !key.isEmpty, !value.isEmpty else { return .malformed("a pair without key or value") }
            entry(key, value)
        }
        return .record(step: step)
    }

    /// `[✨ ]Global step N: {...}` (OpenRLHF), the dict running to the end.
    private static func openRLHF(
        _ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ entry: (Range<Int>, Range<Int>) -> Void
    ) -> Shape? {
        var start = range.lowerBound
        if starts(t, range, with: "✨ ") { start += "✨ ".utf8.count }
        guard starts(t, start..<range.upperBound, with: "Global step ") else { return nil }
        var i = start + "Global step ".utf8.count
        guard let step = digits(t, &i, range.upperBound), i < range.upperBound, t[i] == UInt8(ascii: ":")
        else { return nil }
        let dict = ConsoleText.trimmed(t, (i + 1)..<range.upperBound)
        guard !dict.isEmpty, t[dict.lowerBound] == UInt8(ascii: "{") else { return nil }
        if let problem = PythonLiteral.forEachDictEntry(t, dict, entry) { return .malformed(problem) }
        return .record(step: step)
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
    }

    static func starts(_ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, with prefix: String) -> Bool {
        t[range].starts(with: prefix.utf8)
    }

    /// The index where `needle` first occurs in `range`.
    static func find(_ t: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ needle: String) -> Int? {
        let needle = Array(needle.utf8)
        var i = range.lowerBound
        while i + needle.count <= range.upperBound {
            if t[i] == needle[0] && t[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
