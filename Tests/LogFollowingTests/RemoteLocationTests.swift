import Testing

@testable import LogFollowing

/// Which arguments are on another machine (scp's rule), how `--ssh` is split, and what the other side runs.
@Suite struct RemoteLocationTests {
    func location(_ argument: String) -> RemoteLocation? {
        if case .success(let location)? = RemoteLocation.parse(argument) { location } else { nil }
    }

    func problem(_ argument: String) -> String? {
        if case .failure(let error)? = RemoteLocation.parse(argument) { error.problem } else { nil }
    }

    @Test func scpsRuleTellsRemoteFromLocal() {
        #expect(location("gpu1:/runs") == RemoteLocation(destination: "gpu1", host: "gpu1", path: "/runs"))
        #expect(
            location("me@gpu1.cluster:runs/exp")
                == RemoteLocation(destination: "me@gpu1.cluster", host: "gpu1.cluster", path: "runs/exp"))
        #expect(location("[::1]:/runs") == RemoteLocation(destination: "[::1]", host: "::1", path: "/runs"))
        #expect(
            location("me@[fe80::1%eth0]:x")
                == RemoteLocation(destination: "me@[fe80::1%eth0]", host: "fe80::1%eth0", path: "x"))
        #expect(
            location("ssh://me@node3:2222/scratch/exp")
                == RemoteLocation(destination: "me@node3", host: "node3", port: 2222, path: "/scratch/exp"))
        #expect(location("ssh://node3/~/runs")?.path == "~/runs")
        // Local: a slash before the colon, no colon, standard input, a glob.
        for local in ["./a:b", "/runs/a:b", "runs/x:y.jsonl", "train.jsonl", "-", "runs/*.jsonl", "a/b"] {
            #expect(RemoteLocation.parse(local) == nil, "\(local)")
        }
    }

    @Test func unusableRemoteArgumentsSayWhy() {
        #expect(problem("gpu1:") == "names no path after the ':' (say which logs)")
        #expect(problem(":runs") == "names no host before the ':'")
        #expect(problem("-oProxyCommand=x:runs") == "is not a host name")
        #expect(problem("ho st:runs") == "is not a host name")
        #expect(problem("ssh://node3") == "names no path after the host")
        #expect(problem("ssh://node3:99999/x") == "has a port that is not a number")
        #expect(
            LogFollower.unusableArguments(["gpu1:/ok", "run.jsonl", "gpu2:"]).map(\.argument) == ["gpu2:"])
    }

    @Test func sshCommandsAreSplitAsAShellSplitsThem() {
        #expect(RemoteOptions.words("ssh") == ["ssh"])
        #expect(RemoteOptions.words("ssh -F ./cluster config") == ["ssh", "-F", "./cluster", "config"])
        #expect(
            RemoteOptions.words("ssh -F './my config' -o \"ProxyJump=a b\"") == [
                "ssh", "-F", "./my config", "-o", "ProxyJump=a b",
            ])
        #expect(RemoteOptions.words("ssh -i my\\ key") == ["ssh", "-i", "my key"])
        #expect(RemoteOptions.words("  ") == [])
        #expect(RemoteOptions.words("ssh 'open") == nil)
    }

    @Test func theRemoteCommandQuotesEveryPath() {
        let location = RemoteLocation(destination: "me@gpu1", host: "gpu1", port: 2222, path: "it's here")
        let arguments = RemoteCommand.arguments(
            RemoteOptions(sshCommand: ["ssh", "-F", "cfg"]), location, remote: "REMOTE")
        #expect(
            arguments == [
                "ssh", "-F", "cfg", "-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o",
                "ServerAliveCountMax=4", "-o", "ConnectTimeout=20", "-p", "2222", "--", "me@gpu1", "REMOTE",
            ])
        #expect(RemoteCommand.remotePath("it's here") == "'it'\\''s here'")
        #expect(RemoteCommand.remotePath("~/runs") == "\"$HOME\"/'runs'")
        let export = RemoteCommand.export(
            location, options: RemoteOptions(), follow: true, metric: "actor/kl_loss", inputFormat: nil)
        #expect(export.hasPrefix("sh -c '"))
        #expect(export.contains("--follow"))
        #expect(export.contains("actor/kl_loss"))
        #expect(RemoteCommand.tail(location, follow: true, offset: 99).contains("tail -c +100 -F --"))
    }
}
