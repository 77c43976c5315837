/// Recognises the records of a rewritten file that were already read, for formats whose writers add to a
/// file by rewriting it whole (stable-baselines3 and Lightning CSV with a widened header, trainer_state.json
/// at every checkpoint).
///
/// The rule, by position: each record read is remembered as a 32-bit fingerprint of what it meant (its
/// step and its KL outcome: the value's bits, missing, absent, or bad), in the order the content holds it.
/// When a new content starts (``startNewContent()``, after `restart()` or `finish()`), its records are
/// compared with those fingerprints position by position: while they match they are skipped, as already
/// emitted; from the first one that differs, and for every record past the end of what was read before,
/// they are new. So a rewrite that keeps the old rows (padded with empty cells, columns reordered, a key
/// renamed that is not the KL key) emits exactly the rows appended since, and a file replaced by a different
/// run is read from where it starts to differ. Fingerprints cost 4 bytes per record.
struct RewriteDeduplicator: Sendable {
    private var fingerprints: [UInt32] = []
    /// Whether every record of the current content so far matched the one read before at its position.
    private var matching = true

    /// The next record read is the first of a new content.
    mutating func startNewContent() {
        matching = true
    }

    /// Whether the record at `position` (0-based, counting from the current content's first record) is new.
    /// Records of one content must be offered in order, each once.
    mutating func isNew(position: Int, fingerprint: UInt32) -> Bool {
        if matching && position < fingerprints.count {
            let read = fingerprints[position]
            // The record read before; or a bad record where a good one was read, a torn copy of it (a file
            // read while it was being rewritten): passed over, not making the records after it new.
            if read == fingerprint || (fingerprint == Self.badFingerprint && read != Self.badFingerprint) {
                return false
            }
        }
        matching = false
        if position < fingerprints.count { fingerprints.removeSubrange(position...) }
        fingerprints.append(fingerprint)
        return true
    }

    static let badFingerprint = fingerprint(.bad(""), step: nil)

    /// What a record meant, for comparing it with a later copy of itself.
    static func fingerprint(_ outcome: RecordOutcome, step: Int64?) -> UInt32 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15
        func mix(_ value: UInt64) {
            hash ^= value
            hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
            hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
            hash ^= hash >> 31
        }
        switch outcome {
        case .sample(let sample):
            mix(1)
            mix(UInt64(bitPattern: sample.step))
            mix(sample.value.bitPattern)
        case .missingValue:
            mix(2)
            mix(UInt64(bitPattern: step ?? 0))
        case .noMetric:
            mix(3)
            mix(UInt64(bitPattern: step ?? 0))
        case .bad:
            mix(4)
        }
        return UInt32(truncatingIfNeeded: hash)
    }
}
