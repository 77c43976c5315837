#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decides which key holds the KL series, comparing keys as bytes so that records need not be decoded into
/// strings.
///
/// With ``MetricSelection/automatic`` the candidates are ``MetricKeys/klAliases`` in their order of
/// preference until a record holding one of them is seen: the best alias of that record is chosen, and stays
/// chosen (as in the JSON Lines reader), so a series never switches key halfway through a run. With
/// ``MetricSelection/key(_:)`` the one key is chosen from the start; a `data.` prefix (veRL's nesting in
/// JSON Lines) is also accepted without it, since these formats have no nesting. With `nestedWithSlashes`
/// (W&B, whose nested keys are read joined with `/`), a key spelled with dots as W&B shows it
/// (`actor.kl_loss`) is also accepted with slashes (`actor/kl_loss`).
struct MetricKeyMatcher: Sendable {
    private(set) var chosenKey: String?
    private var candidates: [[UInt8]]
    private var names: [String]
    /// Rejects most keys that are no candidate without comparing them with each alias.
    private var filter: KeyFilter

    init(selection: MetricSelection, nestedWithSlashes: Bool = false) {
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

    /// The rank of `key` among the candidates (0 is best), or nil if it is not one.
    @inline(__always)
    func rank(_ key: UnsafeRawBufferPointer) -> Int? {
        guard filter.mayContain(key) else { return nil }
        for (rank, candidate) in candidates.enumerated() where candidate.count == key.count {
            let same = candidate.withUnsafeBytes { wanted in
                key.count == 0 || memcmp(wanted.baseAddress!, key.baseAddress!, key.count) == 0
            }
            if same { return rank }
        }
        return nil
    }

    func rank(_ key: String) -> Int? {
        var key = key
        return key.withUTF8 { rank(UnsafeRawBufferPointer($0)) }
    }

    /// Fixes the choice on the candidate of this rank, if nothing was chosen yet; afterwards only that key
    /// matches (rank 0).
    mutating func choose(rank: Int) {
        guard isChoosing, candidates.indices.contains(rank) else { return }
        chosenKey = names[rank]
        candidates = [candidates[rank]]
        names = [names[rank]]
        filter = KeyFilter(candidates)
    }
}
