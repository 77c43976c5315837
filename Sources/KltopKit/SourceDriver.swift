import LogFollowing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a ``LogFollower`` for the headless commands: once to the end of every source, or on and on.
public enum SourceDriver {
    /// Reads every source to its end (standard input and pipes until their writers close them), then takes
    /// last unterminated records.
    public static func readToEnd(
        _ arguments: [String], options: FollowOptions, handle: (FollowEvent) -> Void
    ) {
        var options = options
        options.follows = false
        let follower = LogFollower(arguments: arguments, options: options)
        while true {
            let moreWaiting = follower.poll(now: monotonicSeconds(), emit: handle)
            if moreWaiting { continue }
            guard follower.isWaitingForStreams else { break }
            follower.wait(timeout: options.pollInterval)
        }
        follower.finishAll(emit: handle)
    }

    /// Follows every source until `shouldStop` says so or nothing more can arrive (only standard input was
    /// given, and it closed). `afterRound` runs after each round of reading, to flush output; `caughtUp`
    /// once, after the first round that left nothing waiting: what the logs held at the start is read.
    public static func follow(
        _ arguments: [String], options: FollowOptions, shouldStop: () -> Bool, handle: (FollowEvent) -> Void,
        afterRound: () -> Void = {}, caughtUp: () -> Void = {}
    ) {
        let follower = LogFollower(arguments: arguments, options: options)
        var hasCaughtUp = false
        while !shouldStop() {
            let moreWaiting = follower.poll(now: monotonicSeconds(), emit: handle)
            if !moreWaiting && !hasCaughtUp {
                hasCaughtUp = true
                caughtUp()
            }
            afterRound()
            if follower.hasEnded { break }
            if !moreWaiting { follower.wait(timeout: min(options.pollInterval, options.quietPeriod)) }
        }
    }

    public static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
