import Foundation
import RescueModel

@testable import AWSKit
@testable import RescueController

/// Records and observations for the pure core's tests.
enum Fixture {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let target = "i-target"
    static let host = "i-rescue"

    static func record(
        at step: RunStep, status: RunStatus = .inProgress, host: String? = Fixture.host, marketplace: Bool = false,
        originalState: InstanceState = .running, keys: [String] = ["ssh-ed25519 AAAA k"]
    ) -> RunRecord {
        let plan = RescuePlan(
            runID: "kr-test", region: "us-east-1",
            target: .init(
                instanceID: target, availabilityZone: "us-east-1a", subnetID: "subnet-1", vpcID: "vpc-1",
                rootVolumeID: "vol-root",
                rootDeviceName: "/dev/xvda", rootDeleteOnTermination: true, originalState: originalState,
                hasProductCodes: marketplace),
            rescueHost: .init(imageID: "ami-1", instanceType: "t3.micro", subnetID: "subnet-1"),
            delivery: .init(
                bucket: "b", createBucket: true, prefix: "keyrescue/kr-test/", agentPath: "/a", agentSHA256: "00"),
            keys: .init(publicKeys: keys))
        var record = RunRecord(plan: plan, now: now)
        record.step = step
        record.status = status
        if step >= .agentUploaded { record.rescueInstanceID = host }
        record.rescueHostValidUntil = now.addingTimeInterval(3600)
        return record
    }

    static func seen(
        target: InstanceState? = nil, deleteOnTermination: Bool? = true, root: CloudObservation.RootView? = nil,
        host: InstanceState? = nil, hostGone: Bool = false, report: RescueReport? = nil, ready: Bool? = nil
    ) -> CloudObservation {
        CloudObservation(
            now: now, target: target.map { .init(state: $0, rootDeleteOnTermination: deleteOnTermination) }, root: root,
            rescueHost: hostGone ? .gone : host.map { .state($0) }, report: report, rescueHostReady: ready)
    }

    static let onTarget = CloudObservation.RootView.attached(to: target)
    static let onHost = CloudObservation.RootView.attached(to: host)

    static func okReport() -> RescueReport {
        var report = RescueReport(runID: "kr-test", ok: true, agentVersion: "test")
        report.user = "ec2-user"
        return report
    }
}
