import RunLogs

/// Recognising a log's format from its first bytes (``LogFormat/detect(path:firstBytes:)``) and reading
/// it with the reader chosen (``AutoDetectingReader``), under file names of every kind, since the name
/// breaks ties.
///
/// Which format a live stream is taken for may depend on how its first bytes arrive (a first complete line
/// decides), so the promises are about what follows the choice: the bytes read exactly as the chosen
/// format's own reader reads them, and once the first 4 KiB have arrived together, however the rest comes.
enum FormatDetectionHarness {
    static let names = [
        "metrics.jsonl", "progress.csv", "events.out.tfevents.1700000000.host", "trainer_state.json",
        "train.log", "run-7", "run-abc123.wandb", "run-abc123.swanlab",
    ]

    static func run(_ input: [UInt8]) throws(InvariantViolation) {
        for name in names {
            let path = "runs/" + name
            let (auto, detecting) = read(input, with: AutoDetectingReader(path: path, metric: .automatic))
            try require(
                auto.statistics.bytes == input.count, "\(name): \(auto.statistics.bytes) bytes counted")

            if let format = detecting.format {
                let (direct, _) = read(input, with: format.makeReader(metric: .automatic))
                try require(
                    auto == direct,
                    "\(name): read as \(format.argumentName) it reads differently from that format's own "
                        + "reader:\n  detected: \(auto)\n  direct:   \(direct)")
            } else {
                try require(
                    auto.samples.isEmpty && auto.statistics.badLines == (input.isEmpty ? 0 : 1),
                    "\(name): no format, but \(auto)")
            }

            var taking = AutoDetectingReader(path: path, metric: .automatic)
            let taken = readTakingHeldRecord(&taking, input)
            try require(
                taken == auto && taking.format == detecting.format,
                "\(name): takeHeldRecordIfComplete() before finish() changed the reading:\n"
                    + "  without: \(auto)\n  with:    \(taken)")

            let sniffed = AutoDetectingReader.sniffBytes
            if input.count > sniffed {
                let cut = sniffed + Int(fnv1a(input) % UInt64(input.count - sniffed))
                let (split, cutReader) = read(
                    input, cuts: [sniffed, cut], with: AutoDetectingReader(path: path, metric: .automatic))
                try require(
                    split == auto && cutReader.format == detecting.format,
                    "\(name): cut at \([sniffed, cut]), the input reads differently:\n"
                        + "  whole: \(auto)\n  cut:   \(split)")
            }
        }
    }

    /// Feeds `input` to `reader` in the pieces `cuts` leave and finishes; returns the reading and the reader.
    private static func read<Reader: SampleReader>(_ input: [UInt8], cuts: [Int] = [], with reader: Reader)
        -> (Reading, Reader)
    {
        var reader = reader
        var reading = Reading()
        feed(&reader, input, cuts: cuts, into: &reading)
        reader.finish { reading.append($0) }
        reading.statistics = reader.statistics
        return (reading, reader)
    }
}
