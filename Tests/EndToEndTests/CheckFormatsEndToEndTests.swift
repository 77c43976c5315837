import Foundation
import TestSupport
import Testing

/// `kltop check` on the other formats, through the binary: detection, `--input-format`, run directories.
@Suite struct CheckFormatsEndToEndTests {
    static let short = ["--warmup", "10", "--window", "20"]

    @Test func aTensorBoardDirectoryAndAForcedFormat() throws {
        let directory = try Kltop.run(
            ["check"] + Self.short + [Fixtures.path("formats/tensorboard/split_run")])
        #expect(directory.status == 2)
        #expect(directory.standardOutput.contains("split_run: step 90 CRITICAL train/kl=5"))
        let forced = try Kltop.run(
            ["check"] + Self.short + [
                "--input-format", "trainer-state",
                Fixtures.path("formats/trl/grpo/checkpoint-60/trainer_state.json"),
            ])
        #expect(forced.status == 2 && forced.standardOutput.contains("step 33 CRITICAL kl=5"))
        let wrong = try Kltop.run([
            "check", "--input-format", "console", Fixtures.path("formats/sb3/progress.csv"),
        ])
        #expect(wrong.status == 3, "a CSV read as console output has no KL lines")
    }

    @Test func anUnknownFormatNameIsRefusedWithTheNames() throws {
        let result = try Kltop.run(["check", "--input-format", "parquet", "x"])
        #expect(result.status == 3)
        #expect(result.standardError.contains("trainer-state") && result.standardError.contains("rlwatch"))
    }
}
