import AWSKit
import Foundation

/// Rebuilds a run from the tags on its target when this workstation has no journal for it (the
/// rescue was started elsewhere). Enough to roll back, and to resume once the agent has the job.
public enum RunRecovery {
    public static func fromTags(runID: String, ec2: EC2Client, region: String) async throws -> RunRecord? {
        let found = try await ec2.describeInstances(filters: [EC2Filter("tag:\(RunTags.run)", [runID])])
        if let door = DoorRunRecovery.record(fromTags: found, runID: runID, region: region) { return door }
        guard let target = found.first(where: { $0.tags.contains { $0.key == RunTags.rootVolume } }) else { return nil }
        func tag(_ key: String) -> String? { target.tags.first { $0.key == key }?.value }
        guard let volume = tag(RunTags.rootVolume), let device = tag(RunTags.rootDevice),
            let state = tag(RunTags.originalState)
        else {
            return nil
        }
        let root = target.blockDeviceMappings.first { $0.volumeId == volume }
        let plan = RescuePlan(
            runID: runID, region: region,
            target: .init(
                instanceID: target.instanceId, availabilityZone: target.availabilityZone ?? "",
                subnetID: target.subnetId,
                vpcID: target.vpcId, rootVolumeID: volume, rootDeviceName: device,
                rootDeleteOnTermination: root?.deleteOnTermination ?? true,
                originalState: InstanceState(rawValue: state),
                hasProductCodes: !target.productCodes.isEmpty),
            rescueHost: .init(imageID: "", instanceType: "", subnetID: target.subnetId),
            delivery: .init(
                bucket: "", createBucket: false, prefix: "keyrescue/\(runID)/", agentPath: "", agentSHA256: ""),
            keys: .init(publicKeys: []))
        var record = RunRecord(plan: plan, now: Date())
        record.step = tag(RunTags.step).flatMap(RunStep.init(rawValue:)) ?? .targetStopped
        record.rescueInstanceID = tag(RunTags.rescueInstance)
        if let group = tag(RunTags.standbyGroup) {
            // EnterStandby was (about to be) sent; when is unknown: the lifecycle state decides.
            record.plan.standby = true
            record.plan.target.autoScalingGroupName = group
            record.enterStandbyRequestedAt = Date(timeIntervalSince1970: 0)
        }
        let groups = try await ec2.describeSecurityGroups(filters: [EC2Filter("group-name", ["keyrescue-\(runID)"])])
        record.securityGroupID = groups.first?.groupId
        let snaps = try await ec2.describeSnapshots(filters: [EC2Filter("tag:\(RunTags.run)", [runID])])
        record.snapshotID = snaps.first?.snapshotId
        record.rootVolumeWhere = "see EC2 (rebuilt from the tags on \(target.instanceId))"
        record.history.append(
            "rebuilt from the tags on \(target.instanceId); the S3 objects of this run expire by themselves")
        return record
    }

    /// Rescues in progress in the account: every instance carrying `keyrescue:run` with a step (a
    /// swap), or with a route (a door: "route ssm").
    public static func inProgress(ec2: EC2Client) async throws -> [(runID: String, instanceID: String, step: String)] {
        let found = try await ec2.describeInstances(filters: [EC2Filter("tag-key", [RunTags.step, RunTags.route])])
        return found.compactMap { i in
            guard let run = i.tags.first(where: { $0.key == RunTags.run })?.value else { return nil }
            func tag(_ key: String) -> String? { i.tags.first { $0.key == key }?.value }
            return (
                run, i.instanceId,
                tag(RunTags.step).map { "step \($0)" } ?? tag(RunTags.route).map { "route \($0)" } ?? "?"
            )
        }
    }
}
