import ArgumentParser
import KltopKit

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `--on-alert CMD`, and the delivery of alerts to the channels rlwatch.yaml configures.
struct AlertFlags: ParsableArguments {
    @Option(
        name: .customLong("on-alert"),
        help: ArgumentHelp(
            "Run CMD (through /bin/sh -c) for each delivered alert, with the alert as a JSON object on its standard "
                + "input and KLTOP_RUN, KLTOP_STEP, KLTOP_SEVERITY set.",
            valueName: "cmd"))
    var onAlert: String?

    func validate() throws {
        if let onAlert, onAlert.allSatisfy(\.isWhitespace) {
            throw ValidationError("--on-alert needs a command")
        }
    }

    /// The delivery thread for the channels the settings and the environment enable, and `--on-alert`; nil
    /// when there are none. A configuration that cannot work is said, and kltop exits with 3.
    func courier(_ settings: ResolvedSettings) throws -> AlertCourier? {
        let environment = ProcessInfo.processInfo.environment
        do {
            let channels = try settings.alertChannels(environment: environment, onAlert: onAlert)
            guard !channels.isEmpty else { return nil }
            return try AlertCourier(
                channels: channels,
                ledgerDirectory: AlertCourier.defaultLedgerDirectory(environment: environment))
        } catch let error as ConfigError {
            FileHandleOutput.standardError("kltop: \(error.description)")
            throw ExitCode(3)
        } catch {
            FileHandleOutput.standardError("kltop: \(error)")
            throw ExitCode(3)
        }
    }
}
