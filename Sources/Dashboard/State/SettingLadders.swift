import KLDetector

/// The values the detector keys step through.
///
/// Ladders rather than fixed increments: a window of 100 wants steps of 50, one of 5000 steps of 1000. A
/// value set on the command line that is not on a ladder moves to the nearest rung in the key's direction.
enum SettingLadders {
    static let sigmaStep = 0.5
    static let sigmaRange = 0.5...20.0
    static let windows = [10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10_000]
    static let warmups = [0, 10, 20, 50, 100, 200, 500]

    static func sigma(_ sigma: Double, up: Bool) -> Double {
        // Snap to the half-step grid first, so 2.7 goes to 3.0 or 2.5, not 3.2 or 2.2.
        let grid = (sigma / sigmaStep).rounded(up ? .down : .up) * sigmaStep
        let next = grid + (up ? sigmaStep : -sigmaStep)
        return min(sigmaRange.upperBound, max(sigmaRange.lowerBound, next))
    }

    static func window(_ window: Int, up: Bool) -> Int {
        if up { return windows.first { $0 > window } ?? max(window, windows[windows.count - 1]) }
        return windows.last { $0 < window } ?? min(window, windows[0])
    }

    /// w cycles upwards and wraps to 0.
    static func nextWarmup(_ warmup: Int) -> Int {
        warmups.first { $0 > warmup } ?? warmups[0]
    }
}
