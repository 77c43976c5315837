import Foundation
import RunLogs
import TestSupport
import Testing

/// The text logs of torchtune, ROLL, slime and SkyRL (Tests/Fixtures/formats/textlogs, make_textlogs.py).
@Suite struct TextLogFormatsTests {
    nonisolated(unsafe) static let expected: [String: [String: Any]] = {
        guard
            let data = try? Data(
                contentsOf: URL(fileURLWithPath: Fixtures.path("formats/textlogs/expected.json"))),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
        else { return [:] }
        return object
    }()

    static let consoleFixtures = [
        "torchtune/logs/log_1700000000.txt", "roll_stdout.log", "slime_ray.log", "skyrl_ray.log",
    ]

    static func fixture(_ name: String) throws -> [UInt8] { try formatFixture("textlogs/" + name) }

    @Test(arguments: consoleFixtures)
    func everyWritersTextReadsAsExpected(_ name: String) throws {
        let entry = try #require(Self.expected[name])
        let bytes = try Self.fixture(name)
        #expect(LogFormat.detect(path: name, firstBytes: Array(bytes.prefix(4096))) == .console)
        let (samples, reader) = read(ConsoleReader(), bytes)
        #expect(reader.metricKey == entry["kl_key"] as? String)
        let steps = try #require(FormatExpectations.steps(entry))
        #expect(samples.map(\.step) == steps.map(Int64.init))
        let spike = FormatExpectations.spike(entry)
        let nanStep = entry["nan_step"] as? Int
        for sample in samples {
            if Int(sample.step) == nanStep {
                #expect(sample.value.isNaN)
            } else {
                #expect(sample.value == klAt(Int(sample.step), spike: spike), "step \(sample.step)")
            }
        }
        #expect(reader.statistics.badLines == 0)
        #expect(!samples.contains { $0.value == 9.9 }, "dicts quoted in warnings are not records")
    }

    @Test(arguments: consoleFixtures)
    func anyChunkingGivesTheSameSamples(_ name: String) throws {
        let bytes = try Self.fixture(name)
        let whole = read(ConsoleReader(), bytes)
        for seed in 0..<4 as Range<UInt64> {
            let pieces = read(ConsoleReader(), bytes, .random(seed: seed, maximum: seed < 2 ? 7 : 500))
            // By bit pattern: ROLL's fixture holds a NaN.
            #expect(pieces.samples.map(\.step) == whole.samples.map(\.step))
            #expect(pieces.samples.map(\.value.bitPattern) == whole.samples.map(\.value.bitPattern))
            #expect(pieces.reader.statistics.records == whole.reader.statistics.records)
            #expect(pieces.reader.statistics.ignoredLines == whole.reader.statistics.ignoredLines)
        }
    }

    /// slime logs a record per train step (`step N:`, the KL keys) and one per rollout (`rollout N:`, keyed
    /// by rollout id, no KL): the automatic series is the train steps'; the rollouts' is there by name.
    @Test func slimesRolloutsAreRecordsOfTheirOwnSeries() throws {
        let bytes = try Self.fixture("slime_ray.log")
        let (samples, reader) = read(ConsoleReader(), bytes)
        #expect(reader.statistics.records == samples.count + 20)
        let (rollouts, rolloutReader) = read(ConsoleReader(metric: .key("rollout/raw_reward")), bytes)
        #expect(rollouts.map(\.step) == Array(0..<20))
        #expect(rollouts.first?.value == 0.1)
        #expect(rolloutReader.statistics.badLines == 0)
    }

    /// A SkyRL dict cut at the end of a live file is held, neither a sample nor a bad line, and read once
    /// the rest of it is written; at the end of a stream it is one bad line.
    @Test func aCutSkyRLDictIsHeldUntilItCloses() throws {
        let whole = try Self.fixture("skyrl_ray.log")
        let cut = try Self.fixture("skyrl_ray_live.log")
        #expect(whole.starts(with: cut))
        var reader = ConsoleReader()
        var samples: [MetricSample] = []
        feed(&reader, cut, .random(seed: 3, maximum: 300), into: &samples)
        #expect(samples.map(\.step) == Array(1...24))
        #expect(reader.heldByteCount > 0 && reader.statistics.badLines == 0)
        feed(&reader, Array(whole[cut.count...]), into: &samples)
        reader.finish { samples.append($0) }
        #expect(samples.map(\.step) == Array(1...25))
        #expect(reader.statistics.badLines == 0)

        let (ended, endedReader) = read(ConsoleReader(), cut)
        #expect(ended.map(\.step) == Array(1...24))
        #expect(endedReader.statistics.badLines == 1)
        #expect(endedReader.statistics.firstBadLines.first?.reason.contains("cut off") == true)
    }

    static func lines(_ text: String, metric: MetricSelection = .automatic, maxLineBytes: Int = 1 << 20)
        -> (samples: [MetricSample], reader: ConsoleReader)
    {
        read(ConsoleReader(metric: metric, maxLineBytes: maxLineBytes), Array(text.utf8))
    }

    @Test func torchtuneValues() {
        let text = """
            Step 1 | loss:0.5 kl_loss:tensor(0.0230, device='cuda:0') \n\
            Step 2 | kl_loss:tensor(5., device='cuda:0') \n\
            Step 3 | kl_loss:tensor(nan) \n\
            Step 4 | kl_loss:np.float64(0.125) \n\
            Step 5 | kl_loss:0.25
            Step 6 | kl_loss:tensor([0.1, 0.2]) \n\
            Step 7 | lr:1e-05

            """
        let (samples, reader) = Self.lines(text)
        #expect(samples.map(\.step) == [1, 2, 3, 4, 5])
        #expect(samples.map(\.value).enumerated().allSatisfy { $0.offset == 2 ? $0.element.isNaN : true })
        #expect(samples[0].value == 0.023 && samples[1].value == 5 && samples[3].value == 0.125)
        #expect(reader.statistics.missingValues == 1 && reader.statistics.records == 7)
    }

    @Test func rollAndSkyRLAndSlimeValues() {
        let text = """
            metrics_tag: {"step": null, "metrics": {"kl": 0.5}}
            metrics_tag: {"step": 12, "metrics": {"kl": Infinity, "nested": {"a": 1}}}
            metrics_tag: {"step": 13, "metrics": {}}
            Step 14: {'kl': '0.0230'}
            step 15: {'kl': 0.125, 'train/step': 99}
            Step 16:
            {'kl': '0.2500'}

            """
        let (samples, reader) = Self.lines(text)
        #expect(samples.map(\.step) == [1, 12, 14, 15, 16])
        #expect(samples[1].value == .infinity && samples[3].value == 0.125 && samples[4].value == 0.25)
        #expect(reader.statistics.records == 6 && reader.statistics.badLines == 0)
    }

    @Test func decoysAreIgnoredNotBad() {
        let text = """
            WARNING: step 3: {'train/kl_loss': 9.9}
            ValueError: Step 3 | kl_loss:9.9
            raise RuntimeError(f"metrics_tag: {json.dumps(d)}")
            Traceback: metrics_tag: {"step": 1, "metrics": {"actor/kl_loss": 9.9}}
            [INFO] user said step 3: {'train/kl_loss': 9.9}
            Step 3 |  1.20s | Loss 0.1234 | Entropy 1.2000 | Mismatch KL 0.0010
            Step 3: loss=0.1234, kl_loss=9.9
            critic-step 3: {'train/critic-value_loss': 9.9}
            2026-08-21 18:02:38.123 | INFO     | x:y:12 - note - step 3: {'train/kl_loss': 9.9}
            rollout 3 started: {'kl': 9.9}

            """
        let (samples, reader) = Self.lines(text)
        #expect(samples.isEmpty)
        #expect(reader.statistics.records == 0 && reader.statistics.badLines == 0)
        #expect(reader.statistics.ignoredLines == 10)
    }

    @Test func loggingHeadersBeforeRecords() {
        let text = """
            [2026-08-19 10:00:00] [tracking.py (161)] [INFO] [DRIVER 0 / 1][PID 4242] metrics_tag: {"step": 1, "metrics": {"actor/kl_loss": 0.5}}
            [2026-08-21 10:00:00] model.py:916 - step 2: {'actor/kl_loss': 0.25}
            2026-08-21 18:02:38.123 | INFO     | skyrl.train.utils.tracking:log:189 - Step 3: {'actor/kl_loss': 0.125}
            [INFO 11-14 22:14:02 ppo_trainer.py:551] ✨ Global step 4: {'actor/kl_loss': 1}

            """
        let (samples, reader) = Self.lines(text)
        #expect(
            samples == [
                MetricSample(step: 1, value: 0.5), MetricSample(step: 2, value: 0.25),
                MetricSample(step: 3, value: 0.125), MetricSample(step: 4, value: 1),
            ])
        #expect(reader.statistics.ignoredLines == 0)
    }

    /// Ray interleaves processes' lines: another process's line inside a dict is read on its own; the
    /// dict's own process writing an unindented line ends it unclosed (bad: it held a KL key).
    @Test func aDictBelongsToItsProcess() {
        let text = """
            (skyrl_entrypoint pid=1) 2026-08-21 18:02:38.123 | INFO     | m:log:189 - Step 1: \n\
            (skyrl_entrypoint pid=1) {'loss/avg_kl': '0.5000',
            (vllm pid=2) {'num_requests_running': 3, 'step': 7}
            (skyrl_entrypoint pid=1)  'policy/grad_norm': '0.7500'}
            (skyrl_entrypoint pid=1) 2026-08-21 18:02:39.123 | INFO     | m:log:189 - Step 2: \n\
            (skyrl_entrypoint pid=1) {'loss/avg_kl': '0.2500',
            (skyrl_entrypoint pid=1) Traceback (most recent call last):
            (skyrl_entrypoint pid=1) 2026-08-21 18:02:40.123 | INFO     | m:log:189 - Step 3: \n\
            (skyrl_entrypoint pid=1) Exception in thread
            (skyrl_entrypoint pid=1) Step 4:
            (skyrl_entrypoint pid=1) {'loss/avg_kl': '0.1250'}

            """
        let (samples, reader) = Self.lines(text)
        #expect(samples == [MetricSample(step: 1, value: 0.5), MetricSample(step: 4, value: 0.125)])
        #expect(reader.statistics.records == 3, "the vLLM process's dict is a record of its own, without KL")
        #expect(reader.statistics.badLines == 1)
        #expect(reader.statistics.firstBadLines.map(\.lineNumber) == [5])
        // The broken dict's other line, the traceback, the lone header and the line after it.
        #expect(reader.statistics.ignoredLines == 4)
    }

    /// Two processes' headers: the second one gives up the first's dict (counted), and is read itself.
    @Test func aSecondHeaderGivesUpTheOpenDict() {
        let text = """
            (a pid=1) Step 1:
            (a pid=1) {'loss/avg_kl': '0.5000',
            (b pid=2) Step 7:
            (b pid=2) {'loss/avg_kl': '0.2500'}
            (a pid=1)  'x': 1}

            """
        let (samples, reader) = Self.lines(text)
        #expect(samples == [MetricSample(step: 7, value: 0.25)])
        #expect(reader.statistics.badLines == 1 && reader.statistics.firstBadLines.first?.lineNumber == 1)
        #expect(reader.statistics.ignoredLines == 2)
    }

    /// A dict that never closes holds at most `maxLineBytes`: then it is given up, and the lines after it
    /// are read as lines.
    @Test func aDictThatNeverClosesIsBounded() {
        var text = "Step 1:\n{'loss/avg_kl': '0.5000',\n"
        for i in 0..<2000 { text += " 'key\(i)': '0.1000',\n" }
        text += "Step 2: {'loss/avg_kl': '0.2500'}\n"
        let (samples, reader) = Self.lines(text, maxLineBytes: 4096)
        #expect(samples == [MetricSample(step: 2, value: 0.25)])
        #expect(reader.statistics.badLines == 1)
        #expect(reader.statistics.records == 1)
    }
}
