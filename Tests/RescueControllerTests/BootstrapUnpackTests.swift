import AWSKit
import Foundation
import RescueModel
import Testing

@testable import RescueController

/// The rendered bootstrap itself, run here with `sh`: file:// URLs stand for the presigned ones
/// (curl reads and writes them alike) and a small script for the agent. It must unpack the xz
/// agent with `xz`, or with Python's lzma on a host without xz, check the SHA-256 of what it
/// unpacked, and refuse a damaged download.
@Suite(
    .enabled(
        if: XZCommand.find() != nil && getuid() == 0, "needs xz, and root (the bootstrap works in /var/lib/keyrescue)"))
struct BootstrapUnpackTests {
    static let tools = [
        "sh", "mkdir", "curl", "sha256sum", "chmod", "base64", "tail", "tr", "uname", "cat", "python3", "rm",
    ]

    /// Runs the bootstrap for an agent delivered as `object`; `withXZ` false leaves xz off PATH.
    func bootstrap(agent: Data, object: Data, withXZ: Bool) throws -> (status: Int32, report: String, output: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bootstrap-\(UUID().uuidString)")
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for tool in Self.tools + (withXZ ? ["xz"] : []) {
            let found = ["/usr/bin", "/bin"].map { "\($0)/\(tool)" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
            try FileManager.default.createSymbolicLink(
                atPath: bin.appendingPathComponent(tool).path, withDestinationPath: try #require(found))
        }
        try object.write(to: dir.appendingPathComponent("agent.xz"))
        let runID = "kr-bootstrap-test-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: "/var/lib/keyrescue/\(runID)") }
        let job = RescueJob(
            runID: runID, volumeID: "vol-0abc", deviceName: "/dev/sdf", publicKeys: ["ssh-ed25519 AAAA k"])
        let script = try UserData.render(
            UserData.Values(
                runID: runID, agentURL: "file://\(dir.path)/agent.xz", agentSHA256: Digest.hex(Digest.sha256(agent)),
                reportURL: "file://\(dir.path)/uploaded.json", job: job))
        try Data(script.utf8).write(to: dir.appendingPathComponent("user-data"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [dir.appendingPathComponent("user-data").path]
        process.environment = ["PATH": bin.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let report = (try? String(contentsOf: dir.appendingPathComponent("uploaded.json"), encoding: .utf8)) ?? ""
        return (process.terminationStatus, report, text)
    }

    /// A stand-in agent: writes a report where `run --job J --report R` says.
    static let agent = Data("#!/bin/sh\nprintf '{\"stand-in\":true}' > \"$5\"\n".utf8)

    @Test(arguments: [true, false])
    func unpacksChecksAndRunsTheAgent(withXZ: Bool) throws {
        let result = try bootstrap(agent: Self.agent, object: try XZCommand().compress(Self.agent), withXZ: withXZ)
        #expect(result.report == "{\"stand-in\":true}", "\(result.output)")
        #expect(result.output.contains("agent verified"), "\(result.output)")
    }

    @Test func aDamagedDownloadIsRefusedByItsHash() throws {
        let packed = try XZCommand().compress(Self.agent + Data("# another build\n".utf8))
        let result = try bootstrap(agent: Self.agent, object: packed, withXZ: true)
        #expect(result.status != 0)
        #expect(result.report.contains("agentHashMismatch"), "\(result.output)")
        #expect(!result.output.contains("agent verified"))
    }
}
