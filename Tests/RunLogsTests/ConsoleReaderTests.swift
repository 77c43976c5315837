import RunLogs
import TestSupport
import Testing

@Suite struct ConsoleReaderTests {
    static let fixtures: [(file: String, entry: String)] = [
        ("console/hf_trainer_tqdm_v5.24.0.log", "console/hf_trainer_*"),
        ("console/hf_trainer_tqdm_v4.46.3.log", "console/hf_trainer_*"),
        ("console/hf_trainer_printer_v5.24.0.log", "console/hf_trainer_*"),
        ("console/verl_ray_color.log", "console/verl_ray_*.log"),
        ("console/verl_ray_nocolor.log", "console/verl_ray_*.log"),
        ("console/openrlhf_ray.log", "console/openrlhf_ray.log"),
    ]

    @Test(arguments: 0..<6)
    func everyConsoleCaptureReadsAsExpected(_ index: Int) throws {
        let fixture = Self.fixtures[index]
        let entry = FormatExpectations.entry(fixture.entry)
        let (samples, reader) = read(ConsoleReader(), try formatFixture(fixture.file))
        #expect(reader.metricKey == entry["kl_key"] as? String)
        let steps = try #require(FormatExpectations.steps(entry))
        #expect(samples.map(\.step) == steps.map(Int64.init))
        let spike = FormatExpectations.spike(entry)
        #expect(samples.map(\.value) == samples.map { klAt(Int($0.step), spike: spike) })
        #expect(reader.statistics.badLines == 0)
        #expect(reader.statistics.ignoredLines > 0, "progress bars, warnings and tracebacks are ignored")
        #expect(!samples.contains { [9.9, 0.5, 7].contains($0.value) }, "decoys are not samples")
    }

    @Test func verlsValidationLineIsARecordWithoutKL() throws {
        let (samples, reader) = read(ConsoleReader(), try formatFixture("console/verl_ray_nocolor.log"))
        #expect(reader.statistics.records == samples.count + 1)
    }

    @Test func rlwatchsOwnAlertPanelsAreNotRecords() throws {
        let (samples, reader) = read(ConsoleReader(), try formatFixture("console/rlwatch_alerts_stderr.log"))
        #expect(samples.isEmpty && reader.statistics.records == 0 && reader.statistics.badLines == 0)
    }

    @Test(arguments: 0..<6)
    func anyChunkingGivesTheSameSamples(_ index: Int) throws {
        let bytes = try formatFixture(Self.fixtures[index].file)
        let whole = read(ConsoleReader(), bytes).samples
        for seed in 0..<6 as Range<UInt64> {
            #expect(
                read(ConsoleReader(), bytes, .random(seed: seed, maximum: seed < 3 ? 5 : 400)).samples
                    == whole)
        }
    }

    static func lines(_ text: String, metric: MetricSelection = .automatic) -> (
        samples: [MetricSample], reader: ConsoleReader
    ) {
        read(ConsoleReader(metric: metric), Array(text.utf8))
    }

    @Test func valueSpellings() throws {
        let text = """
            {'kl': np.float64(0.5), 'step': 10}
            {'kl': tensor(0.2500, device='cuda:0'), 'global_step': 11}
            {'kl': nan, 'step': 12}
            {'kl': '-inf', 'step': 13}
            {"kl": 1e-3, "step": 14}
            {'kl': None, 'step': 15}
            {'kl': 'n/a', 'step': 16}
            {'kl': [1, 2], 'step': 17}

            """
        let (samples, reader) = Self.lines(text)
        try #require(samples.map(\.step) == [10, 11, 12, 13, 14])
        #expect(samples[0].value == 0.5 && samples[1].value == 0.25 && samples[2].value.isNaN)
        #expect(samples[3].value == -.infinity && samples[4].value == 0.001)
        #expect(reader.statistics.missingValues == 3)
        let verl = """
            step:18 - x/kl_loss:np.float32(0.125) - actor/kl_loss:np.float64(-0.001) - note:1
            step:19 - actor/kl_loss:nan - training/global_step:np.int64(19)
            step:20 - actor/kl_loss:np.float64(0.5) - step:99

            """
        let (verlSamples, verlReader) = Self.lines(verl)
        #expect(verlSamples.map(\.step) == [18, 19, 20], "the step stated first wins")
        #expect(verlSamples.first?.value == -0.001 && verlSamples.dropFirst().first?.value.isNaN == true)
        #expect(verlReader.metricKey == "actor/kl_loss")
    }

    @Test func dictsWithoutAStepCountFromOneSkippingDictsWithoutKL() {
        let text =
            "{'kl': 0.1}\n{'eval_loss': 3, 'eval_kl': 9}\n{'kl': '0.2'}\n{'train_runtime': 12.5}\n{'kl': 0.3}\n"
        let (samples, reader) = Self.lines(text)
        #expect(samples.map(\.step) == [1, 2, 3])
        #expect(reader.statistics.records == 5)
    }

    @Test func decoysAreIgnoredNotBad() {
        let text = """
            /x/trainer.py:1203: FutureWarning: kl is 0.5 here: {'kl': 0.5}
            raise OutOfMemoryError("CUDA out of memory. {'kl': 9.9}")
            torch.OutOfMemoryError: CUDA out of memory. {'kl': 9.9}
            INFO 11-14 22:14:02 ppo_trainer.py:224] Sample: ["What is 2+2? {'kl': 7}", 1.0]
            INFO 11-14 22:14:02 ppo_trainer.py:224] Global step 3 reached: {'kl': 7}
            Note: Global step 4: {'kl': 7}
            Train epoch [1/1]:  50%|█| 1/2 [00:01<00:01, kl=0.024, act_lr=5e-7]
            step: the next one
            {'config': {'kl': 0.1}} extra
            {'kl': 0.5} {'kl': 0.6}

            """
        let (samples, reader) = Self.lines(text)
        #expect(samples.isEmpty)
        #expect(reader.statistics.records == 0)
        #expect(reader.statistics.ignoredLines == 8)
        #expect(reader.statistics.badLines == 2, "dict-shaped lines holding the KL key that cannot be read")
    }

    @Test func prefixesEscapesAndCarriageReturns() {
        let text =
            "\u{1B}[36m(TaskRunner pid=1, ip=10.0.0.7)\u{1B}[0m step:3 - kl:0.25\u{1B}[32m [repeated 2x across cluster]\u{1B}[0m\n"
            + "\r 10%|█ | 6/60\r          \r{'kl': '0.5', 'step': 4}\r\n"
            + "\u{1B}[36m(PPOTrainer pid=3200)\u{1B}[0m INFO 11-14 22:14:02 ppo_trainer.py:551] ✨ Global step 5: {'kl': 0.75}\n"
            + "(not a ray prefix) step:6 - kl:1\n"
            + "Global step 7: {'kl': 0.5}"
        let (samples, reader) = Self.lines(text)
        #expect(samples.map(\.step) == [3, 4, 5, 7])
        #expect(samples.map(\.value) == [0.25, 0.5, 0.75, 0.5])
        #expect(reader.statistics.badLines == 0)
    }

    @Test func malformedRecordsMentioningKLAreBadWithTheirLineNumber() {
        let text = "ok\n{'loss': 0.1, 'kl': 0.02\nstep:4 - actor/kl_loss\n{'loss': 0.1, 'x'\n"
        let (samples, reader) = Self.lines(text)
        #expect(samples.isEmpty)
        #expect(reader.statistics.firstBadLines.map(\.lineNumber) == [2, 3])
        #expect(reader.statistics.ignoredLines == 2)
    }

    @Test func garbageNeverCrashesAndIsNotBad() {
        var generator = SeededGenerator(seed: 5)
        let garbage = (0..<50_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var reader = ConsoleReader(maxLineBytes: 512)
        var samples: [MetricSample] = []
        feed(&reader, garbage + Array("\n{'kl': 0.5}\n".utf8), .random(seed: 2, maximum: 999), into: &samples)
        reader.finish { samples.append($0) }
        #expect(samples == [MetricSample(step: 1, value: 0.5)])
        #expect(reader.statistics.badLines == 0)
    }

    @Test func aPartialLineIsHeldUntilFinished() {
        var (samples, reader) = read(ConsoleReader(), Array("{'kl': 0.1}\n{'kl': 0.2}".utf8), finish: false)
        #expect(samples.count == 1)
        reader.finish { samples.append($0) }
        #expect(samples.map(\.value) == [0.1, 0.2])
    }
}
