#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import RescueModel
import Testing

@Suite struct UserDataTests {
    static let job = RescueJob(
        runID: "kr-1", volumeID: "vol-0abc", deviceName: "/dev/sdf", publicKeys: ["ssh-ed25519 AAAA k"])

    func values(agentURL: String = "http://127.0.0.1:9/b/agent?X-Amz-Signature=abc") -> UserData.Values {
        UserData.Values(
            runID: "kr-1", agentURL: agentURL, agentSHA256: String(repeating: "a", count: 64),
            reportURL: "http://127.0.0.1:9/b/report?X-Amz-Signature=def", job: Self.job)
    }

    @Test func compiledTemplateIsTheDeployFile() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = try String(
            contentsOf: repo.appendingPathComponent("deploy/rescue-user-data.sh.tmpl"), encoding: .utf8)
        #expect(UserData.template == file)
    }

    @Test func fillsEveryPlaceholderAndCarriesTheJob() throws {
        let text = try UserData.render(values())
        #expect(!text.contains("{{"))
        #expect(text.hasPrefix("#!/bin/sh\n"))
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("JOB_BASE64=") })
        let encoded = line.dropFirst("JOB_BASE64='".count).dropLast()
        let job = try WireFormat.decodeJob(Array(try #require(Data(base64Encoded: String(encoded)))))
        #expect(job == Self.job)
    }

    /// The agent arrives xz-compressed: unpacked with xz or Python's lzma, then the hash is checked
    /// on the unpacked file, before anything runs it (BootstrapUnpackTests run the script itself).
    @Test func unpacksTheCompressedAgentThenChecksTheHashOfWhatItUnpacked() throws {
        let text = try UserData.render(values())
        func position(_ needle: String) throws -> String.Index {
            try #require(text.range(of: needle)?.lowerBound, "missing: \(needle)")
        }
        let download = try position("-o keyrescue-agent.xz \"$AGENT_URL\"")
        let xz = try position("xz -d -c keyrescue-agent.xz > keyrescue-agent")
        let python = try position("import lzma")
        let check = try position("|| fail agentHashMismatch")
        let run = try position("./keyrescue-agent run --job job.json")
        #expect(download < xz && xz < python && python < check && check < run)
    }

    @Test func refusesValuesThatWouldBreakTheQuoting() {
        #expect(throws: UserData.RenderError.unsafeValue("agent URL")) {
            try UserData.render(values(agentURL: "http://x/'; reboot; '"))
        }
    }

    @Test func refusesUserDataOverSixteenKilobytes() {
        var v = values()
        v.job.publicKeys = Array(repeating: String(repeating: "k", count: 1000), count: 16)
        #expect { try UserData.render(v) } throws: {
            ($0 as? UserData.RenderError).map { if case .tooLarge = $0 { true } else { false } } ?? false
        }
    }
}
