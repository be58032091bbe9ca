import Foundation
import RescueModel
import Synchronization
import Testing

@testable import AWSKit
@testable import RescueController

struct SimulatedCrash: Error {}

/// A rescue against the fake cloud, with a journal in a temporary directory and a stepped clock.
final class EngineHarness: Sendable {
    let clock = TestClock()
    let cloud: FakeCloud
    let journal: JournalStore
    let plan: RescuePlan
    let events = Mutex<[ProgressEvent]>([])
    let checkpoints = Mutex<[EngineCheckpoint]>([])

    init(
        lag: Int = 1, originalState: InstanceState = .running, marketplace: Bool = false,
        timing: EngineTiming = EngineTiming()
    ) throws {
        cloud = FakeCloud(clock: clock, lag: lag, targetState: originalState)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        journal = JournalStore(directory: dir)
        let agent = dir.appendingPathComponent("agent")
        let bytes = Data("#!/bin/sh\necho agent\n".utf8)
        try bytes.write(to: agent)
        let runID = "kr-test"
        plan = RescuePlan(
            runID: runID, region: "us-east-1",
            target: .init(
                instanceID: FakeCloud.target, availabilityZone: "us-east-1a", subnetID: "subnet-1", vpcID: "vpc-1",
                rootVolumeID: FakeCloud.root, rootDeviceName: FakeCloud.rootDevice, rootDeleteOnTermination: true,
                originalState: originalState, hasProductCodes: marketplace),
            rescueHost: .init(imageID: "ami-al2023", instanceType: "t3.micro", subnetID: "subnet-1"),
            delivery: .init(
                bucket: "keyrescue-b", createBucket: true, prefix: "keyrescue/\(runID)/", agentPath: agent.path,
                agentSHA256: Digest.hex(SHA256.hash(bytes))),
            keys: .init(publicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITest test"]))
        self.timing = timing
    }

    let timing: EngineTiming

    /// An engine whose crash hook throws at the checkpoint `crash` says (nil: never).
    func engine(crash: (@Sendable (EngineCheckpoint, Int) -> Bool)? = nil) -> RescueEngine {
        let start = checkpoints.withLock { $0.count }
        // No xz processes here: tests run in parallel, and a child between fork and exec holds a
        // copy of every descriptor, a run's lock among them, so another engine's lock would fail.
        let environment = EngineEnvironment(clock: clock, agentCodec: ReversingCodec()) { [self] point in
            let n = checkpoints.withLock { all in
                all.append(point)
                return all.count - start
            }
            if crash?(point, n) == true { throw SimulatedCrash() }
        }
        return RescueEngine(cloud: cloud, journal: journal, timing: timing, environment: environment) { [self] e in
            events.withLock { $0.append(e) }
        }
    }

    func record() throws -> RunRecord {
        guard let record = try journal.load(plan.runID) else { throw SimulatedCrash() }
        return record
    }

    /// Runs a fresh rescue that crashes at checkpoint number `n`; returns whether it crashed.
    func crashed(at n: Int) async throws -> Bool {
        do {
            _ = try await engine { _, seen in seen == n }.execute(plan)
            return false
        } catch is SimulatedCrash {
            return true
        }
    }

    // MARK: the cloud afterwards

    func expectRestored(_ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        cloud.with { w in
            let root = w.disks[FakeCloud.root]
            #expect(
                root?.attachedTo == FakeCloud.target && root?.device == FakeCloud.rootDevice
                    && root?.attachment == .attached, comment, sourceLocation: sourceLocation)
            let target = w.machines[FakeCloud.target]
            #expect(target?.state == plan.target.originalState, comment, sourceLocation: sourceLocation)
            #expect(
                target?.mappings[FakeCloud.rootDevice]?.deleteOnTermination == true, "DeleteOnTermination restored",
                sourceLocation: sourceLocation)
            #expect(
                target?.tags.keys.contains { $0.hasPrefix("keyrescue:") } == false, "tags removed",
                sourceLocation: sourceLocation)
            let hosts = w.machines.values.filter { $0.launch != nil }
            #expect(
                hosts.allSatisfy { $0.state == .terminated }, "every rescue host terminated",
                sourceLocation: sourceLocation)
            #expect(w.groups.isEmpty, "security group deleted", sourceLocation: sourceLocation)
            #expect(
                // The agent under keyrescue/agents/ is every run's (AgentDelivery): it stays.
                !w.objects.keys.contains { $0.contains("keyrescue/") && !$0.contains(AgentDelivery.sharedPrefix) },
                "the run's objects deleted",
                sourceLocation: sourceLocation)
            #expect(!w.snapshots.isEmpty, "snapshot kept", sourceLocation: sourceLocation)
        }
    }
}
