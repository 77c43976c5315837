import RunLogs

/// `kltop export --format jsonl --with-notes`, read back: the stream another machine's kltop sends over ssh.
///
/// One JSON object per line. A step is export's own line, `{"run": R, "step": S, "value": V}` (values
/// exact, non-finite as "nan", "inf", "-inf"), so the stream is export's JSON Lines with notes between.
/// A note has `"note"`:
/// - `run`: a run appeared, `{"note": "run", "run": R, "path": P}`;
/// - `renamed`: `{"note": "renamed", "run": R, "name": N}` (its log recorded its name);
/// - `read`: what reading the run found so far, after its steps of a round: `metric`, `records`,
///   `samples`, `missing`, `bad`, `ignored`, `unusable`, `repeated`, `finished`, `bytes`, `heldAtEnd`
///   (bytes of a last record the log ends inside, still being written), `badLines` (`[[line, reason], …]`,
///   the first few), `keys` (keys seen where no KL was);
/// - `notice`: `{"note": "notice", "run": R or null, "kind": K, "path": P, "message": M}`;
/// - `withoutKL`: a log in a run folder that holds no KL, with `path` and the `read` fields;
/// - `ended`: `{"note": "ended", "run": R}`; `caughtUp`: what the logs held at the start has been sent.
/// Run names are unique in a stream; a rename applies to the lines after it. Unknown notes are skipped
/// (a newer kltop on the other side), a line that is not such an object is counted as bad.
public enum RemoteStream {
    public enum Line: Equatable, Sendable {
        case sample(run: String, MetricSample)
        case run(name: String, path: String)
        case renamed(run: String, name: String)
        case read(run: String, metricKey: String?, ReadStatistics)
        case notice(run: String?, Notice)
        case withoutKL(path: String, ReadStatistics)
        case ended(run: String)
        case caughtUp
        /// A note this kltop does not know.
        case unknown
    }

    public static func decode(_ text: Substring) -> Line? {
        // Depth 16 is plenty: a note nests two levels.
        guard
            case .object(let object)? = JSONValue.parse(
                text.utf8, maximumDepth: 16, loneSurrogates: .replaced)
        else { return nil }
        if case .string(let note)? = object["note"] { return decodeNote(note, object) }
        guard case .string(let run)? = object["run"], case .integer(let step)? = object["step"],
            let value = number(object["value"])
        else { return nil }
        return .sample(run: run, MetricSample(step: step, value: value))
    }

    private static func decodeNote(_ note: String, _ object: [String: JSONValue]) -> Line? {
        let run = string(object["run"])
        switch note {
        case "run":
            guard let run, let path = string(object["path"]) else { return nil }
            return .run(name: run, path: path)
        case "renamed":
            guard let run, let name = string(object["name"]) else { return nil }
            return .renamed(run: run, name: name)
        case "read":
            guard let run else { return nil }
            return .read(run: run, metricKey: string(object["metric"]), statistics(object))
        case "notice":
            guard let kind = string(object["kind"]).flatMap(Notice.Kind.init(wireName:)),
                let path = string(object["path"]), let message = string(object["message"])
            else { return nil }
            return .notice(run: run, Notice(kind, path: path, message))
        case "withoutKL":
            guard let path = string(object["path"]) else { return nil }
            return .withoutKL(path: path, statistics(object))
        case "ended":
            guard let run else { return nil }
            return .ended(run: run)
        case "caughtUp": return .caughtUp
        default: return .unknown
        }
    }

    private static func statistics(_ object: [String: JSONValue]) -> ReadStatistics {
        var statistics = ReadStatistics()
        statistics.records = integer(object["records"])
        statistics.samples = integer(object["samples"])
        statistics.missingValues = integer(object["missing"])
        statistics.badLines = integer(object["bad"])
        statistics.ignoredLines = integer(object["ignored"])
        statistics.unusableSteps = integer(object["unusable"])
        statistics.repeatedSteps = integer(object["repeated"])
        statistics.bytes = integer(object["bytes"])
        statistics.heldAtEnd = integer(object["heldAtEnd"])
        if case .bool(true)? = object["finished"] { statistics.runFinished = true }
        if case .array(let lines)? = object["badLines"] {
            for entry in lines.prefix(ReadStatistics.keptBadLines) {
                guard case .array(let pair) = entry, pair.count == 2, case .integer(let line) = pair[0],
                    case .string(let reason) = pair[1]
                else { continue }
                statistics.firstBadLines.append(BadLine(lineNumber: Int(clamping: line), reason: reason))
            }
        }
        if case .array(let keys)? = object["keys"] {
            statistics.keysSeen = keys.prefix(64).compactMap {
                if case .string(let key) = $0 { key } else { nil }
            }
        }
        return statistics
    }

    private static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { text } else { nil }
    }

    private static func integer(_ value: JSONValue?) -> Int {
        if case .integer(let number)? = value { Int(clamping: max(0, number)) } else { 0 }
    }

    private static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let number)?: Double(number)
        case .double(let number)?: number
        case .string("nan")?: .nan
        case .string("inf")?: .infinity
        case .string("-inf")?: -.infinity
        default: nil
        }
    }
}

extension Notice.Kind {
    /// The kind's name in the remote stream: its case name, so that both sides spell it the same.
    public var wireName: String { String(describing: self) }

    init?(wireName: String) {
        guard let kind = Self.all.first(where: { $0.wireName == wireName }) else { return nil }
        self = kind
    }

    public static let all: [Notice.Kind] = [
        .waitingForFile, .waitingForWriter, .streamEnded, .permissionDenied, .notAFile, .cannotOpen,
        .cannotRead,
        .nothingToFollowYet, .following, .rotated, .replacedByContinuation, .truncated, .disconnected,
        .readThroughTail,
    ]
}
