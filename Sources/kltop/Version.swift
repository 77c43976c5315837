/// kltop's release, printed by `kltop --version`. Raised by hand when a release is cut.
enum KltopVersion {
    static let current = "0.7.0"
}
