import AWSKit
import Foundation

/// A door run seen from another workstation: its instance carries `keyrescue:run` and
/// `keyrescue:route` only while the door runs, so tags found there are a door that did not finish
/// (the process was killed). Enough for `runs`, `status` and `rollback` (which removes the tags).
public enum DoorRunRecovery {
    /// The run's record rebuilt from the tags on its instance, or nil when `found` (the instances
    /// tagged with the run) holds no door run. A swap's tags (a root volume) are RunRecovery's.
    public static func record(fromTags found: [Instance], runID: String, region: String) -> RunRecord? {
        guard
            let target = found.first(where: { i in
                i.tags.contains { $0.key == RunTags.route } && !i.tags.contains { $0.key == RunTags.rootVolume }
            }),
            let route = target.tags.first(where: { $0.key == RunTags.route }).flatMap({
                RescueRoute(rawValue: $0.value)
            })
        else { return nil }
        let device = target.rootDeviceName ?? ""
        let root = target.blockDeviceMappings.first { $0.deviceName == device }
        let plan = RescuePlan(
            runID: runID, region: region,
            target: .init(
                instanceID: target.instanceId, availabilityZone: target.availabilityZone ?? "",
                subnetID: target.subnetId, vpcID: target.vpcId, rootVolumeID: root?.volumeId ?? "",
                rootDeviceName: device, rootDeleteOnTermination: root?.deleteOnTermination ?? true,
                originalState: target.state, hasProductCodes: !target.productCodes.isEmpty),
            rescueHost: .init(imageID: "", instanceType: "", subnetID: target.subnetId),
            delivery: .init(
                bucket: "", createBucket: false, prefix: "keyrescue/\(runID)/", agentPath: "", agentSHA256: ""),
            keys: .init(publicKeys: []))
        var record = RunRecord(plan: plan, now: CleanupPlan.startTime(ofRun: runID) ?? Date())
        record.route = route
        record.history.append(
            "rebuilt from the tags on \(target.instanceId): a door run (route \(route.rawValue)) that did not finish")
        return record
    }
}
