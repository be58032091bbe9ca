import AWSKit
import Foundation
import Testing

@testable import RescueController

/// The door script run for real by sh, with a stand-in agent (a shell script that prints a report
/// and records its arguments): fetch, unpack, checksum, and the agent's command line.
@Suite struct DoorAgentScriptTests {
    static let keys = RescuePlan.Keys(publicKeys: ["ssh-ed25519 AAAA it's-me"], user: "ec2-user", replace: true)

    /// Makes the xz-compressed stand-in agent; returns (directory, its URL, the agent's SHA-256).
    func standIn() throws -> (URL, URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-door-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let agent = "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(dir.path)/args\necho '{\"ok\":true}'\n"
        let agentFile = dir.appendingPathComponent("agent")
        try Data(agent.utf8).write(to: agentFile)
        try run("/usr/bin/xz", ["-k", "-c", agentFile.path], stdout: dir.appendingPathComponent("agent.xz"))
        return (dir, dir.appendingPathComponent("agent.xz"), Digest.hex(Digest.sha256(Data(agent.utf8))))
    }

    @discardableResult
    func run(_ path: String, _ args: [String], stdout: URL? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        let pipe = Pipe()
        if let stdout {
            FileManager.default.createFile(atPath: stdout.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: stdout)
        } else {
            process.standardOutput = pipe
        }
        try process.run()
        let output =
            stdout == nil ? String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test func fetchesUnpacksChecksAndRunsTheAgentOnTheLiveRoot() throws {
        let (dir, url, sha) = try standIn()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = DoorAgentScript.ssmCommands(agentURL: url, agentSHA256: sha, keys: Self.keys).joined(
            separator: "\n")
        let (status, output) = try run("/bin/sh", ["-c", script])
        #expect(status == 0)
        #expect(output.contains("{\"ok\":true}"))
        let args = try String(contentsOf: dir.appendingPathComponent("args"), encoding: .utf8)
        #expect(
            args
                == "inject\n--root\n/\n--json\n--public-key-text=ssh-ed25519 AAAA it's-me\n--user\nec2-user\n--replace\n"
        )
    }

    @Test func aWrongChecksumStopsBeforeTheAgentRuns() throws {
        let (dir, url, _) = try standIn()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = DoorAgentScript.ssmCommands(
            agentURL: url, agentSHA256: String(repeating: "0", count: 64), keys: Self.keys)
        let (status, _) = try run("/bin/sh", ["-c", script.joined(separator: "\n")])
        #expect(status == Int32(DoorAgentScript.checksumMismatch))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("args").path))
    }

    @Test func anUnreachableAgentIsAFetchFailure() throws {
        let script = DoorAgentScript.ssmCommands(
            agentURL: URL(fileURLWithPath: "/nonexistent/agent.xz"), agentSHA256: "00", keys: Self.keys)
        let (status, _) = try run("/bin/sh", ["-c", script.joined(separator: "\n")])
        #expect(status == Int32(DoorAgentScript.fetchFailed))
    }

    @Test func theSSHScriptChecksTheAgentFromStdinThenRunsItWithSudo() throws {
        let (dir, _, sha) = try standIn()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = DoorAgentScript.sshScript(agentSHA256: sha, keys: Self.keys)
        let (status, output) = try run(
            "/bin/sh", ["-c", "exec sh -c \(DoorAgentScript.quote(script)) < \(dir.path)/agent 2>&1"])
        // No sudo here: the checksum passed when the script got as far as sudo.
        #expect(status != Int32(DoorAgentScript.checksumMismatch), "\(output)")
    }

    @Test func theSSHScriptReadsTheAgentFromStdinAndUsesSudo() {
        let script = DoorAgentScript.sshScript(agentSHA256: "ab", keys: Self.keys)
        #expect(script.contains("cat > keyrescue-agent ||") && !script.contains("xz"))
        #expect(script.contains("sudo -n ./keyrescue-agent inject --root / --json"))
        #expect(!script.contains("curl"))
    }

    @Test func theReportIsTheLastJSONLine() {
        let line =
            #"{"version":1,"ok":false,"hostKeys":[],"warnings":[],"alreadyPresent":false,"dryRun":false,"agentVersion":"t","durations":[]}"#
        #expect(DoorAgentScript.report(fromOutput: "noise\n\(line)\n")?.ok == false)
        #expect(DoorAgentScript.report(fromOutput: "no report") == nil)
    }
}
