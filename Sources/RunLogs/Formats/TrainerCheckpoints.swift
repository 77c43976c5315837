/// Where a transformers `Trainer` (and TRL's trainers, built on it) leaves its `trainer_state.json`.
///
/// At every save it makes `<output_dir>/checkpoint-<global_step>/` and writes there, among the model
/// files, a `trainer_state.json` holding the whole log history so far; `save_total_limit` then deletes the
/// oldest checkpoint folders, oldest by step number (transformers sorts them numerically, not by name).
/// Example scripts end with `trainer.save_state()`, which writes `<output_dir>/trainer_state.json` itself.
/// Some transformers releases (around 4.36) staged each save in `tmp-checkpoint-<step>/` and renamed it
/// when complete; later ones write in place again.
public enum TrainerCheckpoints {
    public static let stateFileName = "trainer_state.json"

    /// The global step of a checkpoint folder's name (`checkpoint-60` or `tmp-checkpoint-60` → 60), nil
    /// for any other name.
    public static func step(ofFolder name: some StringProtocol) -> Int? {
        var rest = Substring(name)
        if rest.hasPrefix("tmp-") { rest = rest.dropFirst("tmp-".count) }
        guard rest.hasPrefix("checkpoint-") else { return nil }
        let digits = rest.dropFirst("checkpoint-".count)
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        return Int(digits)
    }
}
