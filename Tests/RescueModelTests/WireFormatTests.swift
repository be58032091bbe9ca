import RescueModel
import Testing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

@Suite struct WireFormatTests {
    static let job = RescueJob(
        runID: "kr-20261125-abcd", volumeID: "vol-0123456789abcdef0", deviceName: "/dev/sdf",
        publicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGvZ me@laptop"], user: "ec2-user", replace: true,
        dryRun: false, options: .init(volumeWaitSeconds: 120, backup: true))

    static func sampleReport() -> RescueReport {
        var report = RescueReport(runID: "kr-1", ok: true, agentVersion: "0.1.0")
        report.device = "/dev/nvme1n1"
        report.partition = "/dev/nvme1n1p1"
        report.filesystem = "xfs"
        report.distro = .init(id: "amzn", versionID: "2023", prettyName: "Amazon Linux 2023")
        report.user = "ec2-user"
        report.uid = 1000
        report.gid = 1000
        report.home = "/home/ec2-user"
        report.authorizedKeysPath = "/home/ec2-user/.ssh/authorized_keys"
        report.keyFingerprint = "SHA256:abc"
        report.selinuxLabel = "unconfined_u:object_r:ssh_home_t:s0"
        report.hostKeys = [.init(type: "ssh-ed25519", base64: "AAAA", fingerprint: "SHA256:x")]
        report.warnings = [.init(.matchBlockMayApply, "Match Address 10.0.0.0/8 may apply")]
        report.durations = [.init("mount", seconds: 0.05), .init("write", seconds: 0.01)]
        return report
    }

    @Test func versionIsOne() {
        #expect(WireFormat.version == 1)
    }

    @Test func jobRoundTrips() throws {
        let bytes = try WireFormat.encode(Self.job)
        #expect(try WireFormat.decodeJob(bytes) == Self.job)
    }

    @Test func reportRoundTrips() throws {
        let report = Self.sampleReport()
        #expect(try WireFormat.decodeReport(WireFormat.encode(report)) == report)
        let failed = RescueReport.failure(
            runID: nil, agentVersion: "0.1.0",
            .init(.noLoginUser, "no login user", hint: "pass --user", candidates: ["alice", "bob"]))
        #expect(try WireFormat.decodeReport(WireFormat.encode(failed)) == failed)
    }

    @Test func jobOmittedOptionalFieldsTakeDefaults() throws {
        let json = #"{"version":1,"runID":"r","volumeID":"vol-1","deviceName":"/dev/sdf","publicKeys":[]}"#
        let job = try WireFormat.decodeJob(Array(json.utf8))
        #expect(job.user == nil && !job.replace && !job.dryRun && job.options == .init())
    }

    @Test(arguments: [
        (#"{"version":2,"runID":"r"}"#, WireFormatError.unsupportedVersion(what: "job", found: 2, supported: 1)),
        (#"{"version":0}"#, .unsupportedVersion(what: "job", found: 0, supported: 1)),
        (#"{"runID":"r"}"#, .missingVersion(what: "job")),
    ])
    func jobVersionIsCheckedFirst(json: String, expected: WireFormatError) {
        #expect(throws: expected) { try WireFormat.decodeJob(Array(json.utf8)) }
    }

    @Test(arguments: ["", "[]", "not json", #"{"version":"1"}"#, #"{"version":1,"runID":5}"#])
    func malformedJobsAreRefused(json: String) {
        #expect {
            try WireFormat.decodeJob(Array(json.utf8))
        } throws: { error in
            guard case .malformed = error as? WireFormatError else { return false }
            return true
        }
    }

    @Test func missingFieldIsNamed() {
        let json = #"{"version":1,"runID":"r","deviceName":"/dev/sdf","publicKeys":[]}"#
        #expect {
            try WireFormat.decodeJob(Array(json.utf8))
        } throws: { error in
            "\(error)".contains("volumeID")
        }
    }

    @Test func unknownCodesDecodeAsUnrecognized() throws {
        var report = Self.sampleReport()
        report.ok = false
        report.error = .init(.writeFailed, "m", hint: "h")
        let json = String(decoding: try WireFormat.encode(report), as: UTF8.self)
            .replacing("\"writeFailed\"", with: "\"someFutureCode\"")
            .replacing("\"matchBlockMayApply\"", with: "\"futureWarning\"")
        let decoded = try WireFormat.decodeReport(Array(json.utf8))
        #expect(decoded.error?.code == .unrecognized)
        #expect(decoded.warnings.first?.code == .unrecognized)
    }

    @Test func errorCodesHaveStableRawValues() {
        let raws = RescueErrorCode.allCases.map(\.rawValue)
        for required in [
            "volumeNotFound", "noLinuxRoot", "corruptFilesystem", "mountFailed", "noLoginUser", "unsafePath",
            "invalidPublicKey", "writeFailed", "verifyFailed", "unsupported",
        ] {
            #expect(raws.contains(required))
        }
    }
}
