import AWSKit
import Foundation
@testable import RescueController
import RescueModel
import Testing

@Suite struct RunStepTests {
    @Test func stepsRunInOrderAndEveryOneHasASuccessor() {
        var step = RunStep.planned
        var seen = [step]
        while let next = step.next { seen.append(next); step = next }
        #expect(seen == RunStep.allCases)
        #expect(!RunStep.snapshotted.targetTouched && RunStep.targetStopped.targetTouched)
    }
}

@Suite struct JournalTests {
    static func plan() -> RescuePlan {
        RescuePlan(
            runID: "kr-test", region: "us-east-1",
            target: .init(
                instanceID: "i-1", availabilityZone: "us-east-1a", subnetID: "subnet-1", vpcID: "vpc-1",
                rootVolumeID: "vol-1", rootDeviceName: "/dev/xvda", rootDeleteOnTermination: true,
                originalState: .running),
            rescueHost: .init(imageID: "ami-1", instanceType: "t3.micro", subnetID: "subnet-1"),
            delivery: .init(
                bucket: "b", createBucket: true, prefix: "keyrescue/kr-test/", agentPath: "/a", agentSHA256: "00"),
            keys: .init(publicKeys: ["ssh-ed25519 AAAA k"]))
    }

    @Test func savesAtomicallyLoadsAndLocks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-journal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = JournalStore(directory: dir)
        var record = RunRecord(plan: Self.plan(), now: Date(timeIntervalSince1970: 1_700_000_000))
        record.step = .rootDetached
        record.snapshotID = "snap-1"
        try store.save(record)
        #expect(try store.load("kr-test") == record)
        #expect(store.list().map(\.runID) == ["kr-test"])
        let tmp = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tmp").path)
        #expect(tmp.isEmpty)
        let mode =
            try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("runs").path)[.posixPermissions]
            as? Int
        #expect(mode == 0o700)
        try store.lock("kr-test")
        let other = JournalStore(directory: dir)
        #expect(throws: JournalError.self) { try other.lock("kr-test") }
        store.unlock("kr-test")
        try other.lock("kr-test")
    }

    @Test func journalHoldsNoSecrets() throws {
        let data = try JSONEncoder().encode(RunRecord(plan: Self.plan(), now: Date()))
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("X-Amz-Signature") && !text.contains("SecretAccessKey") && !text.contains("PRIVATE KEY"))
    }

    @Test func tagsCarryWhatRollbackNeeds() {
        var record = RunRecord(plan: Self.plan(), now: Date())
        record.rescueInstanceID = "i-rescue"
        let tags = Dictionary(uniqueKeysWithValues: RunTags.values(record))
        #expect(tags["keyrescue:root-volume"] == "vol-1" && tags["keyrescue:root-device"] == "/dev/xvda")
        #expect(tags["keyrescue:original-state"] == "running" && tags["keyrescue:rescue-instance"] == "i-rescue")
    }
}

@Suite struct KeyGeneratorTests {
    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen"),
            "needs ssh-keygen to read the key back"))
    func sshKeygenReadsTheGeneratedPrivateKey() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kr-key-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: path);
            try? FileManager.default.removeItem(atPath: path + ".pub")
        }
        let pair = try KeyGenerator.generate(at: path, comment: "test@keyrescue")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-y", "-f", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let derived = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(derived.split(separator: " ").prefix(2) == pair.publicLine.split(separator: " ").prefix(2))
        #expect(throws: ControllerError.self) { try KeyGenerator.generate(at: path, comment: "again") }
        _ = try PublicKey(parsing: pair.publicLine)
    }
}

@Suite struct LoginVerifierTests {
    func verifier(_ options: [String]) -> LoginVerifier {
        LoginVerifier(
            address: "54.1.2.3", user: "admin", privateKey: "/k", hostKeys: ["ssh-ed25519 AAAA"], instanceID: "i-1",
            sshOptions: options)
    }

    @Test func probeFollowsTheSSHOptions() {
        #expect(verifier([]).probeEndpoint == ("54.1.2.3", 22))
        #expect(verifier(["-oHostName=127.0.0.1", "-o", "Port=2222"]).probeEndpoint == ("127.0.0.1", 2222))
        #expect(verifier(["-p", "2200"]).probeEndpoint.port == 2200)
    }

    @Test func printedCommandPinsTheHostKeys() {
        let command = verifier(["-J", "bastion"]).command(knownHosts: "/kh").joined(separator: " ")
        #expect(
            command == "ssh -i /k -o UserKnownHostsFile=/kh -o HostKeyAlias=keyrescue-i-1 -J bastion admin@54.1.2.3")
    }
}
