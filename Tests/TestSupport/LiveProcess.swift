import Foundation

/// A `kltop` process left running (`--follow`), whose output is collected as it arrives.
public final class LiveProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var output = Data()
    private var errors = Data()
    private let outputPipe = Pipe()
    private let errorPipe = Pipe()
    public let inputPipe = Pipe()

    public init(kltop arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil)
        throws
    {
        process.executableURL = Kltop.executable
        process.arguments = arguments
        process.currentDirectoryURL = try directory ?? TemporaryDirectory.make()
        if let environment { process.environment = environment }
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        process.standardInput = inputPipe
        outputPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.withLock { self.output.append(data) }
        }
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.withLock { self.errors.append(data) }
        }
        try process.run()
    }

    /// Complete lines written to stdout so far.
    public var outputLines: [String] {
        let text = lock.withLock { String(decoding: output, as: UTF8.self) }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // the part after the last newline: empty, or a line still being written
        return lines
    }

    public var standardError: String { lock.withLock { String(decoding: errors, as: UTF8.self) } }

    /// Waits until `condition` holds for the output lines, or `timeout` seconds pass; returns whether it held.
    @discardableResult
    public func waitUntil(timeout: Double, _ condition: ([String]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(outputLines) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition(outputLines)
    }

    /// Sends SIGINT and waits for the process to exit; returns its status.
    @discardableResult
    public func interrupt() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        process.waitUntilExit()
        // Let the readability handlers take the last bytes.
        Thread.sleep(forTimeInterval: 0.05)
        outputPipe.fileHandleForReading.readabilityHandler = nil
        errorPipe.fileHandleForReading.readabilityHandler = nil
        let rest = outputPipe.fileHandleForReading.readDataToEndOfFile()
        let restErrors = errorPipe.fileHandleForReading.readDataToEndOfFile()
        lock.withLock {
            output.append(rest)
            errors.append(restErrors)
        }
        return process.terminationStatus
    }

    public var isRunning: Bool { process.isRunning }

    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        guard !process.isRunning else { return nil }
        return interrupt()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
