import Foundation
import TestSupport
import Testing

/// `kltop host:path` for real: OpenSSH's sshd on 127.0.0.1 (``SSHServer``), the built kltop on both sides,
/// logs written while kltop follows them, connections killed under it.
@Suite struct RemoteFollowingTests {
    struct Step: Equatable, CustomStringConvertible {
        var step: Int64
        var value: Double
        var description: String { "\(step):\(value)" }
    }

    /// Export's steps by run name.
    static func steps(_ lines: [String]) -> [String: [Step]] {
        var runs: [String: [Step]] = [:]
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["note"] == nil, let run = object["run"] as? String,
                let step = (object["step"] as? NSNumber)?.int64Value,
                let value = (object["value"] as? NSNumber)?.doubleValue
            else { continue }
            runs[run, default: []].append(Step(step: step, value: value))
        }
        return runs
    }

    static func kl(_ step: Int) -> Double { 0.01 + Double(step % 17) * 0.000123456789 }

    static func append(_ path: URL, steps: ClosedRange<Int>) throws {
        let handle = try FileHandle(forWritingTo: path)
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        for step in steps {
            handle.write(Data("{\"step\": \(step), \"kl\": \(kl(step))}\n".utf8))
        }
    }

    static func expected(_ steps: ClosedRange<Int>) -> [Step] {
        steps.map { Step(step: Int64($0), value: kl($0)) }
    }

    /// Steps written while the connection is killed twice arrive once each, in order, for every run of a
    /// remote folder, under the host's name.
    @Test func aRemoteFolderIsFollowedAcrossKilledConnections() throws {
        let server = try SSHServer()
        let root = try TemporaryDirectory.make("kltop-remote")
        var logs: [URL] = []
        for run in ["grpo-a", "grpo-b"] {
            let folder = root.appendingPathComponent(run)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let log = folder.appendingPathComponent("train.jsonl")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            try Self.append(log, steps: 1...100)
            logs.append(log)
        }
        let kltop = try LiveProcess(kltop: [
            "export", "--follow", "--ssh", server.sshCommand, "--remote-kltop", Kltop.executable.path,
            "127.0.0.1:\(root.path)",
        ])
        defer { kltop.interrupt() }
        func arrived(_ count: Int) -> Bool {
            kltop.waitUntil(timeout: 60) { lines in
                Self.steps(lines).values.allSatisfy { $0.count >= count } && Self.steps(lines).count == 2
            }
        }
        #expect(arrived(100), "\(kltop.standardError)")
        for log in logs { try Self.append(log, steps: 101...120) }
        #expect(arrived(120), "\(kltop.standardError)")
        server.dropConnections()
        for log in logs { try Self.append(log, steps: 121...150) }
        #expect(arrived(150), "\(kltop.standardError)")
        server.dropConnections()
        server.dropConnections()
        for log in logs { try Self.append(log, steps: 151...160) }
        #expect(arrived(160), "\(kltop.standardError)")
        kltop.interrupt()
        let runs = Self.steps(kltop.outputLines)
        #expect(runs.keys.sorted() == ["127.0.0.1:grpo-a", "127.0.0.1:grpo-b"])
        for (name, steps) in runs {
            #expect(steps == Self.expected(1...160), "\(name)")
        }
        #expect(kltop.standardError.contains("connection lost"), "\(kltop.standardError)")
        #expect(kltop.standardError.contains("connected again"), "\(kltop.standardError)")
        #expect(server.connectionCount == 0, "no connection is left open once kltop has stopped")
    }

    /// Without kltop on the host, one JSON Lines file is read with `tail -F`; a killed connection resumes
    /// at the byte it had reached, even inside a line.
    @Test func aHostWithoutKltopIsReadThroughTail() throws {
        let server = try SSHServer()
        let root = try TemporaryDirectory.make("kltop-remote-tail")
        let log = root.appendingPathComponent("ppo.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        try Self.append(log, steps: 1...30)
        let kltop = try LiveProcess(kltop: [
            "export", "--follow", "--ssh", server.sshCommand, "--remote-kltop", "/nonexistent/kltop",
            "127.0.0.1:\(log.path)",
        ])
        defer { kltop.interrupt() }
        #expect(
            kltop.waitUntil(timeout: 60) { Self.steps($0)["127.0.0.1:ppo"]?.count == 30 },
            "\(kltop.standardError)")
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        handle.write(Data("{\"step\": 31, \"kl\": ".utf8))
        try handle.close()
        Thread.sleep(forTimeInterval: 0.5)
        server.dropConnections()
        let rest = try FileHandle(forWritingTo: log)
        rest.seekToEndOfFile()
        rest.write(Data("\(Self.kl(31))}\n".utf8))
        try rest.close()
        try Self.append(log, steps: 32...40)
        #expect(
            kltop.waitUntil(timeout: 60) { Self.steps($0)["127.0.0.1:ppo"]?.count == 40 },
            "\(kltop.standardError)")
        kltop.interrupt()
        #expect(Self.steps(kltop.outputLines)["127.0.0.1:ppo"] == Self.expected(1...40))
        #expect(kltop.standardError.contains("no kltop on 127.0.0.1"), "\(kltop.standardError)")
        // Reading to the end, the same, and said.
        let check = try Kltop.run([
            "check", "--ssh", server.sshCommand, "--remote-kltop", "/nonexistent/kltop",
            "127.0.0.1:\(log.path)",
        ])
        #expect(check.status == 0, "\(check.standardError)")
        #expect(check.standardOutput.contains("127.0.0.1:ppo: 40 KL samples"), "\(check.standardOutput)")
        #expect(check.standardError.contains("no kltop on 127.0.0.1"), "\(check.standardError)")
    }

    /// A host that refuses the key, and one where nothing listens: `check` says why and exits 3, at once
    /// (BatchMode: no password prompt).
    @Test func aHostThatRefusesIsAnErrorOnItsRuns() throws {
        let server = try SSHServer()
        let root = try TemporaryDirectory.make("kltop-remote-refused")
        let refused = try Kltop.run([
            "check", "--ssh", server.refusedSSHCommand, "--remote-kltop", Kltop.executable.path,
            "127.0.0.1:\(root.path)",
        ])
        #expect(refused.status == 3)
        #expect(
            refused.standardError.contains("127.0.0.1:\(root.path): cannot connect"),
            "\(refused.standardError)")
        #expect(refused.standardError.contains("Permission denied"), "\(refused.standardError)")
        let command = server.sshCommand
        server.stop()
        let closed = try Kltop.run([
            "check", "--ssh", command, "--remote-kltop", Kltop.executable.path, "127.0.0.1:\(root.path)",
        ])
        #expect(closed.status == 3)
        #expect(closed.standardError.contains("Connection refused"), "\(closed.standardError)")
        let usage = try Kltop.run(["check", "127.0.0.1:"])
        #expect(usage.status == 3 && usage.standardError.contains("names no path"), "\(usage.standardError)")
    }

    /// `check` on a run on another machine decides as on the same run here: the same alerts, the run named
    /// `host:run`; a path with a space and a quote reaches the other side intact.
    @Test func checkDecidesOnARemoteRunAsOnALocalOne() throws {
        let server = try SSHServer()
        let root = try TemporaryDirectory.make("kltop-remote-check")
        let folder = root.appendingPathComponent("it's a run")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let log = folder.appendingPathComponent("spike_default.jsonl")
        try FileManager.default.copyItem(
            atPath: Fixtures.path("conformance/spike_default.jsonl"), toPath: log.path)
        let local = try Kltop.run(["check", "--format", "jsonl", log.path])
        let remote = try Kltop.run([
            "check", "--format", "jsonl", "--ssh", server.sshCommand, "--remote-kltop", Kltop.executable.path,
            "127.0.0.1:\(log.path)",
        ])
        #expect(local.status == 2)
        #expect(remote.status == local.status, "\(remote.standardError)")
        #expect(!local.standardOutput.isEmpty)
        #expect(
            remote.standardOutput
                == local.standardOutput.replacingOccurrences(
                    of: "\"run\": \"spike_default\"", with: "\"run\": \"127.0.0.1:spike_default\""))
    }

    /// The dashboard on two hosts at once (the same sshd as `127.0.0.1` and as `localhost`): each run named
    /// by its host, a lost connection shown on its runs with their figures kept, gone once connected again;
    /// quitting closes every connection.
    @Test func theDashboardShowsRunsOfSeveralHostsAndTheirConnections() throws {
        let server = try SSHServer()
        let root = try TemporaryDirectory.make("kltop-remote-dashboard")
        for run in ["grpo-a", "grpo-b"] {
            let folder = root.appendingPathComponent(run)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let log = folder.appendingPathComponent("train.jsonl")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            try Self.append(log, steps: 1...60)
        }
        let tmux = try TmuxSession(width: 100, height: 30)
        try tmux.run(
            "\(Kltop.executable.path) --ssh '\(server.sshCommand)' --remote-kltop \(Kltop.executable.path) "
                + "127.0.0.1:\(root.path) localhost:\(root.path)/grpo-b; echo EXIT=$?")
        let shown = tmux.waitForScreen(timeout: 30) { screen in
            let text = screen.joined(separator: "\n")
            return text.contains("127.0.0.1:grpo-a") && text.contains("127.0.0.1:grpo-b")
                && text.contains("localhost:grpo-b") && text.contains("step 60")
        }
        #expect(shown, "\(tmux.screen().joined(separator: "\n"))")
        server.suspend()
        server.dropConnections()
        let lost = tmux.waitForScreen(timeout: 20) { screen in
            screen.filter { $0.contains("disconnected") && $0.contains("step 60") }.count == 3
        }
        #expect(lost, "\(tmux.screen().joined(separator: "\n"))")
        server.resume()
        #expect(
            tmux.waitForScreen(timeout: 30) { !$0.joined().contains("disconnected") },
            "\(tmux.screen().joined(separator: "\n"))")
        try tmux.press("q")
        #expect(tmux.waitForScreen(timeout: 10) { $0.joined().contains("EXIT=0") })
        let deadline = Date().addingTimeInterval(10)
        while server.connectionCount > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(server.connectionCount == 0, "quitting leaves no connection open")
    }

    /// A run that appears on the other side while the connection is down makes an old run's short name
    /// ambiguous, so the other side names it otherwise on the next connection: still one run here (renamed),
    /// its steps once each.
    @Test func aRunNamedOtherwiseAfterAReconnectIsStillOneRun() throws {
        let server = try SSHServer()
        let root = try TemporaryDirectory.make("kltop-remote-rename")
        let first = root.appendingPathComponent("exp1/seed0")
        try FileManager.default.createDirectory(at: first, withIntermediateDirectories: true)
        let log = first.appendingPathComponent("train.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        try Self.append(log, steps: 1...20)
        let kltop = try LiveProcess(kltop: [
            "export", "--follow", "--ssh", server.sshCommand, "--remote-kltop", Kltop.executable.path,
            "127.0.0.1:\(root.path)",
        ])
        defer { kltop.interrupt() }
        #expect(
            kltop.waitUntil(timeout: 60) { Self.steps($0)["127.0.0.1:seed0"]?.count == 20 },
            "\(kltop.standardError)")
        server.suspend()
        server.dropConnections()
        let second = root.appendingPathComponent("exp2/seed0")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        let other = second.appendingPathComponent("train.jsonl")
        FileManager.default.createFile(atPath: other.path, contents: nil)
        try Self.append(other, steps: 1...5)
        try Self.append(log, steps: 21...30)
        server.resume()
        #expect(
            kltop.waitUntil(timeout: 60) { lines in
                let runs = Self.steps(lines)
                return (runs["127.0.0.1:seed0"]?.count ?? 0) + (runs["127.0.0.1:exp1/seed0"]?.count ?? 0)
                    >= 30
                    && runs["127.0.0.1:exp2/seed0"]?.count == 5
            }, "\(kltop.outputLines.suffix(5)) \(kltop.standardError)")
        kltop.interrupt()
        let runs = Self.steps(kltop.outputLines)
        let steps = (runs["127.0.0.1:seed0"] ?? []) + (runs["127.0.0.1:exp1/seed0"] ?? [])
        #expect(steps == Self.expected(1...30), "\(runs.mapValues(\.count))")
        #expect(runs["127.0.0.1:exp2/seed0"] == Self.expected(1...5))
    }
}
