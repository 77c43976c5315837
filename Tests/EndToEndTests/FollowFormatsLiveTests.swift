import Foundation
import TestSupport
import Testing

/// Every format kltop reads, followed by `kltop export --follow` while a writer in this process is still
/// writing it the way the real writer does (LiveWriters.swift); kltop must report every step exactly once,
/// in order, with its value, and no other run.
///
/// The writers follow their originals call for call (Tests/Fixtures/formats/README.md and the writers'
/// sources); the only liberty taken is time: pauses between writes, so that kltop looks at the files half
/// written. Nothing here asserts on time; conditions are waited for with generous timeouts.
@Suite(.serialized) struct FollowFormatsLiveTests {
    /// How kltop learns that a file changed: inotify (with a full check every second), or polling alone
    /// (`--poll`, as on NFS or Lustre, which never deliver inotify events).
    enum WakeUp: String, CaseIterable, CustomStringConvertible {
        case inotify
        case polling

        var description: String { rawValue }
        var arguments: [String] { self == .polling ? ["--poll", "0.1"] : [] }
    }

    struct Step: Equatable, CustomStringConvertible {
        var step: Int64
        var value: Double
        var description: String { "\(step)=\(value)" }
    }

    // MARK: - (a) TensorBoard event files

    /// Two runs in a logdir that is empty when kltop starts. Each flush writes the step's records in up to
    /// four pieces cut at random bytes (records arrive split mid-record); at step 60 the writer closes its
    /// event file and opens a new one in the same folder, and the run goes on there.
    @Test(arguments: WakeUp.allCases)
    func tensorBoardEventFilesWrittenRecordByRecordThenContinuedInANewFile(_ wakeUp: WakeUp) throws {
        let logdir = try TemporaryDirectory.make("kltop-live-tb")
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [logdir.path])
        defer { kltop.interrupt() }
        var random = SeededGenerator(seed: 11)
        let runs = ["ppo", "grpo"]
        var writers: [String: EventFileWriter] = [:]
        for run in runs {
            let folder = logdir.appendingPathComponent(run)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            writers[run] = EventFileWriter(folder: folder, seconds: 1_700_000_000, uid: 0)
        }
        var expected: [String: [Step]] = [:]
        for step in 0..<120 {
            if step == 60 {
                for run in runs {
                    writers[run]!.close()
                    writers[run] = EventFileWriter(
                        folder: logdir.appendingPathComponent(run), seconds: 1_700_000_600, uid: 1)
                }
            }
            for run in runs {
                let kl = Float(fixtureKL(step, spike: run == "ppo" ? 90 : nil))
                writers[run]!.addScalar("train/loss", 0.3 + 0.001 * Float(step), step: step)
                writers[run]!.addScalar("train/kl", kl, step: step)
                writers[run]!.flush(&random)
                expected[run, default: []].append(Step(step: Int64(step), value: Double(kl)))
            }
            if step % 10 == 0 { pause(milliseconds: 5) }
        }
        Self.requireExactly(expected, from: kltop)
    }

    // MARK: - (b) CSV rewritten with a wider header

    /// stable-baselines3's PPO logging 160 iterations: `train/*` keys first appear in row 2 and
    /// `rollout/*` in row 3 (each a rewrite in place), and an EvalCallback's first evaluation, during
    /// iteration 130, dumps a row of its own with `eval/*` keys: a rewrite of a file over 8 KiB, which
    /// reaches the disk in two writes, the first overwriting the start of the file without changing its
    /// size.
    ///
    /// SB3 rewrites only when a key first appears, an iteration after the last row; so does this writer,
    /// which lets kltop show the last row first (the next test leaves kltop no such time).
    @Test(arguments: WakeUp.allCases)
    func stableBaselines3ProgressCSVRewrittenInPlaceWhenKeysAppear(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-sb3")
        let folder = root.appendingPathComponent("ppo_cartpole")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [root.path])
        defer { kltop.interrupt() }
        let writer = SB3ProgressWriter(path: folder.appendingPathComponent("progress.csv").path)
        var slowWrites = false
        var rewriteWrites = 0
        writer.file.afterEachWrite = {
            if slowWrites { rewriteWrites += 1 }
            pause(milliseconds: slowWrites ? 60 : 1)
        }
        let evaluations = [130, 150]
        var expected: [Step] = []
        var pendingTrain: [(key: String, value: String)] = []
        func repr(_ value: Double) -> String { "\(value)" }
        for iteration in 1...160 {
            if evaluations.contains(iteration) {
                // EvalCallback._on_step, during the rollout: it dumps what is recorded so far (PPO.train()'s
                // keys from the last iteration) with its own keys and the current timestep.
                let timesteps = 2048 * (iteration - 1) + 1000
                if iteration == evaluations[0] {
                    #expect(
                        kltop.waitUntil(timeout: 20) {
                            Self.steps($0, run: "ppo_cartpole").last == expected.last
                        },
                        "kltop did not show row \(iteration - 1) before the rewrite")
                    #expect(
                        writer.file.file.contents().count >= PythonTextFile.bufferSize,
                        "the first write of the rewrite must fall within the old file")
                    slowWrites = true
                }
                writer.write(
                    pendingTrain + [
                        ("eval/mean_reward", repr(Double(iteration) / 4)), ("eval/mean_ep_length", "200.0"),
                        ("time/total_timesteps", "\(timesteps)"),
                    ])
                slowWrites = false
                if let kl = pendingTrain.first(where: { $0.key == "train/approx_kl" }) {
                    expected.append(Step(step: Int64(timesteps), value: Double(kl.value)!))
                }
                pendingTrain = []
            }
            // OnPolicyAlgorithm.dump_logs(), then PPO.train() records for the next row.
            var row = pendingTrain + [("time/iterations", "\(iteration)")]
            if iteration >= 3 {
                row += [
                    ("rollout/ep_rew_mean", repr(0.1 + 0.005 * Double(iteration % 40))),
                    ("rollout/ep_len_mean", repr(200.0 + Double(iteration))),
                ]
            }
            row += [
                ("time/fps", "\(1000 + iteration)"), ("time/time_elapsed", "\(2 * iteration)"),
                ("time/total_timesteps", "\(2048 * iteration)"),
            ]
            writer.write(row)
            if let kl = pendingTrain.first(where: { $0.key == "train/approx_kl" }) {
                expected.append(Step(step: Int64(2048 * iteration), value: Double(kl.value)!))
            }
            let next = iteration + 1
            pendingTrain = [
                ("train/entropy_loss", repr(-(1.2 - 0.002 * Double(next % 50)))),
                ("train/policy_gradient_loss", repr(-0.001 * Double(next % 7))),
                ("train/value_loss", repr(0.3 + 0.01 * Double((next * 7) % 5))),
                ("train/approx_kl", repr(fixtureKL(next, spike: 26))),
                ("train/clip_fraction", repr(0.01 * Double(next % 4))),
                ("train/n_updates", "\(10 * iteration)"),
                ("train/clip_range", "0.2"),
            ]
            if iteration % 10 == 0 { pause(milliseconds: 5) }
        }
        writer.close()
        #expect(
            rewriteWrites >= 2, "the rewrite reached the disk in one write: the file is too short to split")
        #expect(expected.count == 159, "rows 2...160 carry KL; two of them went into the evaluations' rows")
        Self.requireExactly(["ppo_cartpole": expected], from: kltop)
    }

    /// The same writer adding a key every 25 rows, as fast as it can, with kltop reading all along: a
    /// rewrite in place may be under way whenever kltop looks, and the next may have begun before kltop has
    /// read the last. kltop must wait each one out: every step once, with its own value, no bad lines.
    @Test(arguments: WakeUp.allCases)
    func stableBaselines3KeysAppearingWhileKltopReads(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-sb3-fast")
        let path = root.appendingPathComponent("fast/progress.csv").path
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("fast"), withIntermediateDirectories: true)
        let kltop = try LiveProcess(
            kltop: ["check", "--follow", "--raw", "--format", "jsonl"] + wakeUp.arguments
                + [root.path])
        let exporter = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [root.path])
        defer { kltop.interrupt() }
        let writer = SB3ProgressWriter(path: path)
        writer.file.afterEachWrite = { usleep(100) }
        var expected: [Step] = []
        var extraKeys: [String] = []
        for row in 1...800 {
            if row % 25 == 0 { extraKeys.append("eval/extra\(row / 25)") }
            let kl = fixtureKL(row)
            writer.write(
                [
                    ("time/iterations", "\(row)"), ("train/approx_kl", "\(kl)"),
                    ("time/total_timesteps", "\(2048 * row)"),
                ]
                    + extraKeys.map { ($0, "1.5") })
            expected.append(Step(step: Int64(2048 * row), value: kl))
        }
        writer.close()
        Self.requireExactly(["fast": expected], from: exporter)
        kltop.interrupt()
        #expect(!kltop.standardError.contains("bad line"), "\(kltop.standardError)")
    }

    /// Lightning's CSVLogger over three epochs of 70 steps: `train/loss_epoch` first appears at the end of
    /// epoch 0 and `val/reward` (validation every second epoch) at the end of epoch 1, each time the file is
    /// truncated and rewritten (the second time over 8 KiB, so in several writes) before the new rows are
    /// appended. Lightning's rewrites start by truncating, so kltop may be behind when they happen.
    @Test(arguments: WakeUp.allCases)
    func lightningMetricsCSVTruncatedAndRewrittenWhenKeysAppear(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-lightning")
        let folder = root.appendingPathComponent("lightning_logs/version_0")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [root.path])
        defer { kltop.interrupt() }
        let writer = LightningMetricsWriter(path: folder.appendingPathComponent("metrics.csv").path)
        var writes = 0
        writer.afterEachWrite = {
            writes += 1
            pause(milliseconds: 1)
        }
        func item(_ value: Double) -> String { "\(Double(Float(value)))" }  // Tensor.item() of a float32
        var expected: [Step] = []
        for epoch in 0..<3 {
            var losses: [Double] = []
            for batch in 0..<70 {
                let step = epoch * 70 + batch
                let kl = fixtureKL(step, spike: 45)
                let loss = 0.3 + 0.01 * Double((step * 7) % 5)
                losses.append(loss)
                writer.logMetrics(
                    [
                        "train/kl": item(kl), "train/loss_step": item(loss),
                        "train/entropy": item(1.2 - 0.002 * Double(step % 50)), "epoch": "\(epoch)",
                    ], step: step)
                writer.save()
                expected.append(Step(step: Int64(step), value: Double(Float(kl))))
            }
            let last = epoch * 70 + 69
            if epoch % 2 == 1 {
                writer.logMetrics(
                    ["val/reward": item(0.1 + 0.005 * Double(epoch)), "epoch": "\(epoch)"], step: last)
                let before = writes
                writer.save()
                #expect(writes - before >= 3, "rewrite and row in two writes: the file is too short to split")
            }
            writer.logMetrics(
                ["train/loss_epoch": item(losses.reduce(0, +) / 70), "epoch": "\(epoch)"], step: last)
            writer.save()
        }
        // lightning_logs/ and version_0/ are containers: the run is the folder above them.
        Self.requireExactly([root.lastPathComponent: expected], from: kltop)
    }

    // MARK: - (c) Console output

    enum ConsoleStream: String, CaseIterable, CustomStringConvertible {
        /// transformers 5.x Trainer with its tqdm bar (`ProgressCallback`): dict lines with no step.
        case transformers
        /// veRL's console logger behind Ray's coloured worker prefix.
        case verl

        var description: String { rawValue }
        static let steps = 60

        /// What the training script prints, from start to crash.
        var bytes: [UInt8] {
            var text = ""
            switch self {
            case .transformers:
                text += "\r  0%|          | 0/60 [00:00<?, ?it/s]"
                for step in 1...Self.steps {
                    text +=
                        "\r" + Self.bar(step) + " [00:\(String(format: "%02d", step % 60))<01:40,  1.70s/it]"
                    text += "\r" + String(repeating: " ", count: 60) + "\r"
                    text +=
                        "{'loss': '\(Self.g(0.3 + 0.01 * Double((step * 7) % 5)))', 'grad_norm': '0.26', "
                        + "'learning_rate': '9.833e-07', 'num_tokens': '\(Self.g(4096 * Double(step)))', "
                        + "'reward': '0.105', 'kl': '\(Self.g(Self.kl(step)))', 'entropy': '1.198', "
                        + "'epoch': '\(Self.g(Double(step) / 60))'}\n"
                    text += "\r" + Self.bar(step) + " [00:02<01:40,  1.70s/it]"
                    if step == 5 {
                        text +=
                            "/usr/local/lib/python3.11/site-packages/torch/utils/checkpoint.py:87: UserWarning: "
                            + "None of the inputs have requires_grad=True. Gradients will be None\n  warnings.warn(\n"
                    }
                    if step == 20 {
                        text +=
                            "/usr/local/lib/python3.11/site-packages/trl/trainer/grpo_trainer.py:1203: FutureWarning: "
                            + "kl is 0.5 here but this is a warning, not a metric: {'kl': 0.5}\n  warnings.warn(\n"
                    }
                }
                text +=
                    "Traceback (most recent call last):\n  File \"/workspace/train_grpo.py\", line 41, in <module>\n"
                text += "    trainer.train()\nRuntimeError: diverged at {'kl': 9.9}\n"
            case .verl:
                let prefix = "\u{1B}[36m(TaskRunner pid=2183455)\u{1B}[0m "
                text += "2023-11-14 22:13:20,123\tINFO worker.py:1942 -- Started a local Ray instance. "
                text += "View the dashboard at 127.0.0.1:8265 \n"
                text += prefix + "TaskRunner hostname: fixturehost, PID: 2183455\n"
                text += prefix + "step:0 - val-core/openai/gsm8k/reward/mean@1:np.float64(0.125) - "
                text += "val-aux/num_turns/min:np.int64(2)\n"
                var bar = ""
                for step in 1...Self.steps {
                    text +=
                        prefix + "step:\(step) - actor/entropy:np.float64(\(1.2 - 0.002 * Double(step))) - "
                    text += "actor/kl_loss:np.float64(\(Self.kl(step))) - actor/kl_coef:np.float64(0.001) - "
                    text +=
                        "actor/pg_loss:np.float64(\(-0.001 * Double(step % 7))) - training/global_step:\(step) - "
                    text += "training/epoch:0 - critic/score/mean:\(0.1 + 0.005 * Double(step % 40)) - "
                    text += "timing_s/gen:12.5 - perf/max_memory_allocated_gb:np.float64(41.5)\n"
                    bar += "\rTraining Progress: " + Self.bar(step)
                    if step % 10 == 0 {  // a worker's tqdm redraws reach Ray as one long "line"
                        text += prefix + bar + "\n"
                        bar = ""
                    }
                    if step == 41 {
                        text +=
                            "\u{1B}[36m(WorkerDict pid=2184101, ip=10.0.0.7)\u{1B}[0m [WARNING] grad_norm is "
                        text += "not finite: inf, skipping update\n"
                    }
                }
                text += prefix + "Traceback (most recent call last):\n" + prefix + "KeyboardInterrupt\n"
            }
            return Array(text.utf8)
        }

        var expected: [Step] {
            (1...Self.steps).map { step in
                switch self {
                case .transformers: Step(step: Int64(step), value: Double(Self.g(Self.kl(step)))!)
                case .verl: Step(step: Int64(step), value: Self.kl(step))
                }
            }
        }

        static func kl(_ step: Int) -> Double { fixtureKL(step, spike: 33) }
        /// transformers 5's `f"{v:.4g}"`.
        static func g(_ value: Double) -> String { String(format: "%.4g", value) }
        static func bar(_ step: Int) -> String {
            let percent = step * 100 / steps
            let filled = String(repeating: "█", count: percent / 10)
            return String(format: "%3d%%|", percent) + filled
                + String(repeating: " ", count: 10 - percent / 10) + "| \(step)/\(steps)"
        }
    }

    /// A transformers log and a veRL log in one folder, each appended in random pieces (cut inside lines,
    /// inside `\r` redraws and inside UTF-8 characters) while kltop follows the folder.
    @Test(arguments: WakeUp.allCases)
    func consoleLogsAppendedInPieces(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-console")
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [root.path])
        defer { kltop.interrupt() }
        var random = SeededGenerator(seed: 23)
        let logs = [
            ("hf_grpo", ConsoleStream.transformers, root.appendingPathComponent("hf_grpo.log").path),
            ("verl_ppo", ConsoleStream.verl, root.appendingPathComponent("verl_ppo.log").path),
        ]
        let files = logs.map { RawFile($0.2, flags: O_WRONLY | O_CREAT | O_APPEND) }
        let streams = logs.map(\.1.bytes)
        var offsets = [0, 0]
        while offsets[0] < streams[0].count || offsets[1] < streams[1].count {
            for index in 0..<2 where offsets[index] < streams[index].count {
                let size = 1 + Int(random.next() % 300)
                let end = min(streams[index].count, offsets[index] + size)
                files[index].write(streams[index][offsets[index]..<end])
                offsets[index] = end
            }
            if random.next() % 4 == 0 { pause(milliseconds: 2) }
        }
        Self.requireExactly(
            Dictionary(uniqueKeysWithValues: logs.map { ($0.0, $0.1.expected) }), from: kltop)
    }

    /// SkyRL's output (a dict over several lines per step) and torchtune's DiskLogger file, written by the
    /// real writers (Fixtures/formats/textlogs), appended in random pieces: a dict cut at the end of the file
    /// is held while the writer is quiet (its step not reported, not counted bad), then read once whole.
    @Test(arguments: WakeUp.allCases)
    func skyRLAndTorchtuneLogsAppendedInPieces(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-textlogs")
        let folder = Fixtures.path("formats/textlogs") + "/"
        let skyrl = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "skyrl_ray.log")))
        let cut = try Data(contentsOf: URL(fileURLWithPath: folder + "skyrl_ray_live.log")).count
        let torchtune = Array(
            try Data(contentsOf: URL(fileURLWithPath: folder + "torchtune/logs/log_1700000000.txt")))
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("grpo_tt/logs"), withIntermediateDirectories: true)
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [root.path])
        defer { kltop.interrupt() }
        let files = [
            RawFile(root.appendingPathComponent("skyrl_ray.log").path, flags: O_WRONLY | O_CREAT | O_APPEND),
            RawFile(
                root.appendingPathComponent("grpo_tt/logs/log_1700000000.txt").path,
                flags: O_WRONLY | O_CREAT | O_APPEND),
        ]
        var random = SeededGenerator(seed: 31)
        func append(_ index: Int, _ bytes: ArraySlice<UInt8>) {
            var offset = bytes.startIndex
            while offset < bytes.endIndex {
                let end = min(bytes.endIndex, offset + 1 + Int(random.next() % 200))
                files[index].write(bytes[offset..<end])
                offset = end
                if random.next() % 4 == 0 { pause(milliseconds: 2) }
            }
        }
        append(0, skyrl[..<cut])
        append(1, torchtune[...])
        #expect(kltop.waitUntil(timeout: 30) { Self.steps($0, run: "skyrl_ray").count >= 24 })
        pause(milliseconds: 1500)  // quiet, with step 25's dict cut after its fourth line
        #expect(Self.steps(kltop.outputLines, run: "skyrl_ray").map(\.step) == Array(1...24))
        append(0, skyrl[cut...])
        Self.requireExactly(
            [
                "skyrl_ray": (1...25).map { Step(step: Int64($0), value: fixtureKL($0, spike: 12)) },
                "grpo_tt": (1...40).map { Step(step: Int64($0), value: fixtureKL($0, spike: 29)) },
            ], from: kltop)
        #expect(!kltop.standardError.contains("bad line"), "\(kltop.standardError)")
    }

    /// `python train.py 2>&1 | kltop export --follow -`: the stream arrives through a pipe in random pieces;
    /// when the writer closes it, kltop reads what is left and exits by itself.
    @Test(arguments: ConsoleStream.allCases)
    func consoleOutputThroughStandardInput(_ stream: ConsoleStream) throws {
        let kltop = try LiveProcess(kltop: ["export", "--follow", "-"])
        defer { kltop.interrupt() }
        var random = SeededGenerator(seed: 31)
        let bytes = stream.bytes
        var offset = 0
        let pipe = kltop.inputPipe.fileHandleForWriting
        signal(SIGPIPE, SIG_IGN)  // should kltop die, the write fails instead of killing the tests
        while offset < bytes.count {
            let end = min(bytes.count, offset + 1 + Int(random.next() % 400))
            try pipe.write(contentsOf: Data(bytes[offset..<end]))
            offset = end
            if random.next() % 3 == 0 { pause(milliseconds: 2) }
        }
        try pipe.close()
        let status = kltop.waitForExit(timeout: 20)
        #expect(status == 0, "kltop did not exit when standard input closed; stderr: \(kltop.standardError)")
        Self.requireExactly(["stdin": stream.expected], from: kltop, stop: false)
    }

    // MARK: - (d) trainer_state.json in checkpoint folders

    /// A transformers Trainer saving every 5 steps with `save_total_limit=2`: each checkpoint-N folder gets
    /// the whole log history in a trainer_state.json written in three pieces, then the oldest folder is
    /// deleted; at the end `save_state()` writes output_dir/trainer_state.json. kltop starts when
    /// checkpoint-5 and checkpoint-10 exist (so name order and step order disagree). All of it is one run,
    /// named after the output folder, each step once: steps 61-63 only ever appear in the final file.
    @Test(arguments: WakeUp.allCases)
    func trainerStateOfEachCheckpointIsOneRun(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-trainer")
        let output = root.appendingPathComponent("grpo-run")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        var trainer = CheckpointingTrainer(
            outputDirectory: output, saveTotalLimit: 2,
            state: TrainerStateDocument(maxSteps: 63, saveSteps: 5))
        var kltop: LiveProcess?
        defer { kltop?.interrupt() }
        var expected: [Step] = []
        for step in 1...63 {
            let kl = fixtureKL(step, spike: 33)
            trainer.log(step: step, kl: kl, gradNorm: step == 34 ? .nan : 0.26 + 0.01 * Double(step % 10))
            expected.append(Step(step: Int64(step), value: kl))
            if step % 20 == 0 { trainer.logEvaluation(step: step) }
            if step % 5 == 0 { trainer.saveCheckpoint() }
            if step == 10 {
                kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [root.path])
            }
            pause(milliseconds: 10)
        }
        #expect(CheckpointingTrainer.checkpoints(in: output).map(\.step) == [55, 60])
        trainer.saveState()
        Self.requireExactly(["grpo-run": expected], from: kltop!)
    }

    // MARK: - (e) rlwatch's SQLite store

    /// rlwatch writing its store in WAL mode, one transaction per step, from before the store exists: the
    /// file is found while `connect()` has left it empty. At step 40 a second training process registers
    /// its run in the same store and logs beside the first (one of its steps without KL: NULL).
    @Test(arguments: WakeUp.allCases)
    func rlwatchStoreWrittenLiveWithASecondRunMidway(_ wakeUp: WakeUp) throws {
        let root = try TemporaryDirectory.make("kltop-live-rlwatch")
        let kltop = try LiveProcess(kltop: ["export", "--follow"] + wakeUp.arguments + [root.path])
        defer { kltop.interrupt() }
        let logs = root.appendingPathComponent("rlwatch_logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let path = logs.appendingPathComponent("metrics.db").path
        let first = RlwatchStoreWriter(
            path: path, runID: "ppo_live", afterConnect: { pause(milliseconds: 1200) })
        var second: RlwatchStoreWriter?
        var expected: [String: [Step]] = [:]
        for step in 0..<80 {
            let kl = fixtureKL(step, spike: 60)
            first.logMetrics(step: step, kl: kl, entropy: 1.2)
            expected["ppo_live", default: []].append(Step(step: Int64(step), value: kl))
            if step == 60 { first.logAlert(step: 60, message: "KL divergence explosion") }
            if step == 40 { second = RlwatchStoreWriter(path: path, runID: "grpo_late") }
            if let second {
                let own = step - 40
                let kl = own == 10 ? nil : fixtureKL(own)
                second.logMetrics(step: own, kl: kl, entropy: 1.1)
                if let kl { expected["grpo_late", default: []].append(Step(step: Int64(own), value: kl)) }
            }
            pause(milliseconds: 5)
        }
        Self.requireExactly(expected, from: kltop)
    }

    // MARK: - Checking what kltop exported

    /// The steps of `run` in kltop's export lines.
    static func steps(_ lines: [String], run: String) -> [Step] {
        exported(lines).filter { $0.run == run }.map(\.step)
    }

    static func exported(_ lines: [String]) -> [(run: String, step: Step)] {
        lines.compactMap { line in
            guard let data = line.data(using: .utf8),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let run = json["run"] as? String, let step = (json["step"] as? NSNumber)?.int64Value
            else { return nil }
            // The value is parsed from its text: Foundation's JSON parser on Linux is not exact to the ulp.
            guard let start = line.range(of: "\"value\": ")?.upperBound, line.hasSuffix("}") else {
                return nil
            }
            let text = line[start..<line.index(before: line.endIndex)]
            let value = Double(text) ?? ExpectedAlert.number(json["value"])
            return (run, Step(step: step, value: value))
        }
    }

    /// Waits until kltop has exported as many steps as `expected` holds for every run, stops it (unless it
    /// has stopped by itself), and requires exactly `expected`: each run's steps once, in order, with their
    /// values, and no other run or line.
    static func requireExactly(
        _ expected: [String: [Step]], from kltop: LiveProcess, stop: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let caughtUp = kltop.waitUntil(timeout: 30) { lines in
            let all = exported(lines)
            return expected.allSatisfy { run, steps in all.filter { $0.run == run }.count >= steps.count }
        }
        if stop { kltop.interrupt() }
        let all = exported(kltop.outputLines)
        var failed = !caughtUp
        #expect(
            caughtUp, "kltop exported \(all.count) of \(expected.values.map(\.count).reduce(0, +)) steps",
            sourceLocation: sourceLocation)
        for (run, steps) in expected.sorted(by: { $0.key < $1.key }) {
            let reported = all.filter { $0.run == run }.map(\.step)
            if reported != steps {
                failed = true
                let wanted = Set(steps.map(\.step))
                let got = reported.map(\.step)
                let missing = wanted.subtracting(got).sorted()
                let duplicated = Dictionary(got.map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }
                    .keys.sorted()
                let wrong = zip(reported, steps).filter { $0.0 != $0.1 }.prefix(3).map {
                    "\($0.0) for \($0.1)"
                }
                let message: String =
                    "\(run): exported \(reported.count) steps, expected \(steps.count); missing \(missing.prefix(20)), "
                    + "duplicated \(duplicated.prefix(20)), first differences \(wrong)"
                Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
            }
        }
        let runs = Set(all.map(\.run))
        failed = failed || runs != Set(expected.keys)
        #expect(
            runs == Set(expected.keys), "runs exported: \(runs.sorted())", sourceLocation: sourceLocation)
        #expect(
            kltop.outputLines.count == expected.values.map(\.count).reduce(0, +),
            "lines that are not expected steps", sourceLocation: sourceLocation)
        if failed {
            print("kltop's stderr:\n" + kltop.standardError)
        }
    }
}
