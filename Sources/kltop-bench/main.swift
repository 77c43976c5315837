// kltop's benchmark: prints figures for this machine, asserts nothing.
//
//   Scripts/bench.sh [detector] [jsonl] [tensorboard] [wandb] [swanlab] [csv] [sqlite] [stores] [dashboard] [rlwatch] [cold-open]
//                    [follow] [dashboard-idle] [terminal] [terminal-stream] [numbers]
//
// Targets (from the issues): detector ≤ 20 ns per step; JSONL ingest ≥ 300 MB/s of veRL-style lines;
// TensorBoard event files and CSV ≥ 200 MB/s; rlwatch's SQLite store ≥ 1M rows/s; dashboard: re-running the
// detector over a 1M-step run after a key < 100 ms, ≤ 24 bytes per stored step.

import Dashboard
import Foundation
import KLDetector
import RunLogs

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Best of `repeats` timings of `body`, in seconds.
func best(of repeats: Int, _ body: () -> Void) -> Double {
    var fastest = Double.infinity
    for _ in 0..<repeats {
        let start = now()
        body()
        fastest = min(fastest, now() - start)
    }
    return fastest
}

/// A PPO-like KL series: noise around a slow drift, with bursts and the odd spike.
func klSeries(count: Int, seed: UInt64 = 42) -> [Double] {
    var state = seed
    func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
    return (0..<count).map { index in
        let base = 0.02 + 0.00001 * Double(index % 10_000)
        let spike = index % 5003 == 5002 ? 0.5 : 0
        return base * (0.85 + 0.3 * unit()) + spike
    }
}

func benchDetector() {
    let count = 10_000_000
    let series = klSeries(count: count)
    print("detector (\(count / 1_000_000)M steps, PPO-like series with spikes; target ≤ 20 ns/step)")
    for (window, mode) in [(100, BaselineMode.rolling), (100, .frozen), (1000, .rolling), (10, .rolling)] {
        var fired = 0
        var exact = 0
        let seconds = best(of: 3) {
            var detector = KLExplosionDetector(
                settings: DetectorSettings(rollingWindow: window, baselineMode: mode))
            fired = 0
            exact = 0
            for (index, value) in series.enumerated() {
                guard let verdict = detector.check(step: Int64(index), value: value) else { continue }
                if verdict.status >= .warning { fired += 1 }
                if verdict.isExact { exact += 1 }
            }
        }
        let label = "window \(window), \(mode)".padding(toLength: 22, withPad: " ", startingAt: 0)
        print(
            "  \(label) \(String(format: "%6.2f", seconds / Double(count) * 1e9)) ns/step"
                + "   (\(fired) steps fired, \(exact) computed exactly)")
    }
}

/// veRL file-logger lines with about 30 keys each.
func verlLines(targetBytes: Int) -> [UInt8] {
    let keys = [
        "actor/entropy", "actor/pg_loss", "actor/pg_clipfrac", "actor/ppo_kl", "actor/grad_norm", "actor/lr",
        "critic/score/mean", "critic/score/max", "critic/score/min", "critic/rewards/mean",
        "critic/rewards/max",
        "critic/rewards/min", "critic/advantages/mean", "critic/advantages/max", "critic/advantages/min",
        "critic/returns/mean", "critic/returns/max", "critic/returns/min", "response_length/mean",
        "response_length/max", "response_length/min", "response_length/clip_ratio", "prompt_length/mean",
        "prompt_length/max", "prompt_length/min", "timing_s/gen", "timing_s/update_actor", "timing_s/step",
        "actor/kl_loss",
    ]
    var text: [UInt8] = []
    text.reserveCapacity(targetBytes + 4096)
    var step = 0
    let series = klSeries(count: 10_000)
    while text.count < targetBytes {
        var line = "{\"step\": \(step), \"data\": {"
        for (index, key) in keys.enumerated() {
            let value =
                key == "actor/kl_loss"
                ? series[step % series.count] : Double(step % 97) * 0.0137 + Double(index)
            line += (index == 0 ? "" : ", ") + "\"\(key)\": \(value)"
        }
        line += "}}\n"
        text += Array(line.utf8)
        step += 1
    }
    return text
}

func benchJSONL() {
    let bytes = verlLines(targetBytes: 200 << 20)
    let lineCount = bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    print(
        "JSONL ingest (veRL file-logger lines, ~30 keys, \(bytes.count / lineCount) bytes per line; "
            + "target ≥ 300 MB/s)")
    var samples = 0
    let seconds = best(of: 3) {
        var reader = JSONLReader()
        samples = 0
        var offset = 0
        bytes.withUnsafeBytes { all in
            while offset < all.count {
                let end = min(offset + LogFile.chunkSize, all.count)
                reader.consume(UnsafeRawBufferPointer(rebasing: all[offset..<end])) { _ in samples += 1 }
                offset = end
            }
        }
        reader.finish { _ in samples += 1 }
    }
    print(
        "  from memory: \(String(format: "%7.0f", Double(bytes.count) / seconds / 1e6)) MB/s"
            + "   (\(samples) samples, \(String(format: "%.0f", Double(lineCount) / seconds / 1e3))k lines/s)"
    )
    let path = NSTemporaryDirectory() + "kltop-bench-\(getpid()).jsonl"
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        print("  (could not write \(path) for the file figure)")
        return
    }
    defer { unlink(path) }
    let fileSeconds = best(of: 3) {
        var reader = JSONLReader()
        try? LogFile.read(path: path, into: &reader) { _ in }
    }
    print(
        "  from a file (page cache): \(String(format: "%7.0f", Double(bytes.count) / fileSeconds / 1e6)) MB/s"
    )
}

func benchDashboard() {
    let count = 1_000_000
    let samples = klSeries(count: count).enumerated().map {
        MetricSample(step: Int64($0.offset), value: $0.element)
    }
    print("dashboard (one run of \(count / 1_000_000)M steps; targets: re-run < 100 ms, ≤ 24 bytes/step)")
    var state = DashboardState()
    var ingest = Double.infinity
    for _ in 0..<3 {
        state = DashboardState()
        _ = update(&state, .runAdded(RunID(0), name: "bench", source: "memory"))
        var batchStart = 0
        let start = now()
        while batchStart < count {
            let end = min(count, batchStart + 4096)
            _ = update(
                &state,
                .samplesAppended(
                    RunID(0), metricKey: "kl", samples: Array(samples[batchStart..<end]),
                    statistics: ReadStatistics()))
            batchStart = end
        }
        ingest = min(ingest, now() - start)
    }
    let history = state.runs[0].history
    print(
        "  ingest (detector + history + alert policy): \(String(format: "%6.1f", ingest / Double(count) * 1e9)) ns/step"
    )
    print(
        "  memory: \(String(format: "%.2f", Double(history.bytesAllocated) / Double(count))) bytes/step"
            + " (\(history.bytesAllocated / 1_000_000) MB for \(count) steps, capacity included)")
    for (label, key) in [
        ("+ (sigma)", "+"), ("- (sigma)", "-"), ("] (window)", "]"), ("[ (window)", "["), ("b (frozen)", "b"),
        ("b (rolling)", "b"),
    ] {
        let seconds = best(of: 1) { _ = update(&state, .keyPressed(.character(Character(key)))) }
        print(
            "  re-run after \(label.padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(format: "%6.1f", seconds * 1e3)) ms"
        )
    }
    var grid = render(state, width: 120, height: 40)
    let frame = best(of: 5) { grid = render(state, width: 120, height: 40) }
    print("  render 120×40: \(String(format: "%.2f", frame * 1e3)) ms per frame")
    var changed = 0
    for step in count..<(count + 200) {
        _ = update(
            &state,
            .samplesAppended(
                RunID(0), metricKey: "kl", samples: [MetricSample(step: Int64(step), value: 0.02)],
                statistics: ReadStatistics()))
        let next = render(state, width: 120, height: 40)
        changed = max(changed, next.diff(from: grid).cellCount)
        grid = next
    }
    print("  one new step at 120×40: at most \(changed) cells change (200 steps)")
}

let arguments = Set(CommandLine.arguments.dropFirst())
let everything = arguments.isEmpty || arguments.contains("all")
print("kltop-bench on \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
if everything || arguments.contains("detector") {
    benchDetector()
    fflush(nil)
}
if everything || arguments.contains("jsonl") {
    benchJSONL()
    fflush(nil)
}
if everything || arguments.contains("console") {
    benchConsole()
    fflush(nil)
}
if everything || arguments.contains("numbers") {
    benchNumbers()
    fflush(nil)
}
if everything || arguments.contains("tensorboard") {
    benchTensorBoard()
    fflush(nil)
}
if everything || arguments.contains("wandb") {
    benchWandb()
    fflush(nil)
}
if everything || arguments.contains("swanlab") {
    benchSwanlab()
    fflush(nil)
}
if everything || arguments.contains("csv") {
    benchCSV()
    fflush(nil)
}
if everything || arguments.contains("sqlite") {
    benchSQLite()
    fflush(nil)
}
if everything || arguments.contains("stores") {
    benchStores()
    fflush(nil)
}
if everything || arguments.contains("dashboard") {
    benchDashboard()
    fflush(nil)
}
if everything || arguments.contains("rlwatch") {
    benchRlwatch()
    fflush(nil)
}
if everything || arguments.contains("cold-open") {
    benchColdOpen()
    fflush(nil)
}
if everything || arguments.contains("sweep") {
    benchSweep()
}
if everything || arguments.contains("follow") {
    let seconds = ProcessInfo.processInfo.environment["KLTOP_BENCH_IDLE_SECONDS"].flatMap(Double.init) ?? 60
    benchFollow(idleSeconds: seconds)
    fflush(nil)
}
if everything || arguments.contains("remote") {
    benchRemote()
    fflush(nil)
}
if everything || arguments.contains("dashboard-idle") {
    let seconds = ProcessInfo.processInfo.environment["KLTOP_BENCH_IDLE_SECONDS"].flatMap(Double.init) ?? 60
    benchDashboardIdle(idleSeconds: seconds)
    fflush(nil)
}
if everything || arguments.contains("terminal") {
    benchTerminal()
    fflush(nil)
}
if everything || arguments.contains("terminal-stream") {
    benchTerminalStream()
    fflush(nil)
}
// Internal: one cold open in a fresh process (benchColdOpen runs this), so that RSS is its own.
if CommandLine.arguments.count == 2 && CommandLine.arguments[1] == "sweep-one" {
    benchSweepOne()
}
if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "cold-open-one" {
    benchColdOpenOne(count: Int(CommandLine.arguments[2]) ?? 1_000_000)
}
