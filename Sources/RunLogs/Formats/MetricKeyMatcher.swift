#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decides which key holds the KL series, comparing keys as bytes so that records need not be decoded into
/// strings.
///
/// With ``MetricSelection/automatic`` every key is ranked by ``MetricKeys/automaticRank(_:)`` until a record
/// holding a candidate is seen: the best candidate of that record is chosen (the caller says which, with
/// ``choose(rank:key:)``), and stays chosen (as in the JSON Lines reader), so a series never switches key
/// halfway through a run. With ``MetricSelection/key(_:)`` the one key is chosen from the start; a `data.`
/// prefix (veRL's nesting in JSON Lines) is also accepted without it, since these formats have no nesting.
/// With `nestedWithSlashes` (W&B, whose nested keys are read joined with `/`), a key spelled with dots as W&B
/// shows it (`actor.kl_loss`) is also accepted with slashes (`actor/kl_loss`).
struct MetricKeyMatcher: Sendable {
    private(set) var chosenKey: String?
    private var candidates: [[UInt8]]
    /// Rejects most keys that are no alias without comparing them with each one.
    private var filter: KeyFilter

    init(selection: MetricSelection, nestedWithSlashes: Bool = false) {
        var names: [String]
        switch selection {
        case .automatic:
            names = MetricKeys.klAliases
        case .key(let key):
            let prefix = MetricKeys.nestedMetricsKey + "."
            names = [key]
            if key.hasPrefix(prefix) && key.count > prefix.count {
                names.append(String(key.dropFirst(prefix.count)))
            }
            if nestedWithSlashes && key.contains(".") {
                names.append(String(key.map { $0 == "." ? "/" : $0 }))
            }
            chosenKey = key
        }
        candidates = names.map { Array($0.utf8) }
        filter = KeyFilter(candidates)
    }

    /// Whether the key is still to be chosen from the aliases.
    var isChoosing: Bool { chosenKey == nil }

    /// The rank of `key` (lower is better), or nil if it is no candidate. Once a key is chosen, only it is
    /// one (rank 0).
    @inline(__always)
    func rank(_ key: UnsafeRawBufferPointer) -> Int? {
        if filter.mayContain(key) {
            for (rank, candidate) in candidates.enumerated() where candidate.count == key.count {
                let same = candidate.withUnsafeBytes { wanted in
                    key.count == 0 || memcmp(wanted.baseAddress!, key.baseAddress!, key.count) == 0
                }
                if same { return isChoosing ? MetricKeys.automaticRank(aliasAt: rank) : rank }
            }
        }
        return isChoosing ? MetricKeys.rank(ofNonAlias: key) : nil
    }

    func rank(_ key: String) -> Int? {
        var key = key
        return key.withUTF8 { rank(UnsafeRawBufferPointer($0)) }
    }

    /// Fixes the choice on `key`, the best candidate of the first record holding one (its rank is `rank`), if
    /// nothing was chosen yet; afterwards only that key matches (rank 0). `key` is read only then, so callers
    /// may build it on the spot.
    mutating func choose(rank: Int, key: @autoclosure () -> String) {
        guard isChoosing else { return }
        let key = key()
        chosenKey = key
        candidates = [Array(key.utf8)]
        filter = KeyFilter(candidates)
    }
}
