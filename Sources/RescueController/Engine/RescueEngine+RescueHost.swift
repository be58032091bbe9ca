import AWSKit
import Foundation
import RescueModel

/// The rescue host: its launch (security group, presigned URLs, user-data) and its replacement
/// when it can no longer do its job.
extension RescueEngine {
    func launchRescue(_ record: inout RunRecord) async throws {
        let host = record.plan.rescueHost
        var group = host.securityGroupID ?? record.securityGroupID
        if group == nil {
            let name = "keyrescue-\(record.runID)"
            let found = try await ec2.describeSecurityGroups(filters: [EC2Filter("group-name", [name])])
            if let existing = found.first?.groupId {
                group = existing
            } else {
                group = try await ec2.createSecurityGroup(
                    name: name, description: "keyrescue rescue host, no ingress (run \(record.runID))",
                    vpcId: record.plan.target.vpcID, tags: runTags(record, name: name))
            }
            record.securityGroupID = group
            try save(&record, "security group \(group ?? "?")")
        }
        let job = RescueJob(
            runID: record.runID, volumeID: record.plan.target.rootVolumeID, deviceName: host.attachDevice,
            publicKeys: record.plan.keys.publicKeys, user: record.plan.keys.user, replace: record.plan.keys.replace)
        let d = record.plan.delivery
        let agentURL = try await aws.s3.presigned(method: "GET", bucket: d.bucket, key: record.agentKey, expires: timing.agentURLLifetime)
        let reportURL = try await aws.s3.presigned(method: "PUT", bucket: d.bucket, key: record.reportKey, expires: timing.reportURLLifetime)
        let userData = try UserData.render(UserData.Values(
            runID: record.runID, agentURL: agentURL.url.absoluteString, agentSHA256: d.agentSHA256,
            reportURL: reportURL.url.absoluteString, job: job))
        // The same token for a relaunch after a crash (EC2 answers with the same instance); a new
        // one for each replacement host.
        let launch = record.rescueLaunches ?? 1
        let token = launch == 1 ? record.runID : "\(record.runID)-\(launch)"
        var request = RunInstancesRequest(imageId: host.imageID, instanceType: host.instanceType, clientToken: token)
        request.subnetId = host.subnetID
        request.securityGroupIds = group.map { [$0] } ?? []
        request.userData = userData
        request.instanceInitiatedShutdownBehavior = "terminate"
        request.tags = runTags(record, name: "keyrescue-rescue-\(record.runID)")
        let rescue = try await ec2.runInstances(request)
        if record.rescueInstanceID != rescue.instanceId { events(.created(kind: "rescue instance", id: rescue.instanceId)) }
        record.rescueInstanceID = rescue.instanceId
        // The agent URL is used once, at boot; the report URL must last until the agent is done.
        record.rescueHostValidUntil = reportURL.validUntil
        try save(&record, "rescue instance \(rescue.instanceId)")
        if record.step >= .targetStopped { try await mirrorTags(record) }
    }

    /// Why the rescue host can no longer do its job, or nil when it can: it is gone (terminated,
    /// or shut itself down), or its presigned report URL expires too soon — the controller was
    /// away for long, or temporary credentials signed the URLs and have run out.
    func staleRescueHost(_ record: RunRecord) async throws -> String? {
        guard let id = record.rescueInstanceID else { return "none was launched" }
        // Unknown after a recovery from tags: then only the host's own state can tell.
        if let validUntil = record.rescueHostValidUntil, validUntil.timeIntervalSinceNow < timing.reportURLMargin { return "its presigned URLs expire\(validUntil < Date() ? "d" : "") at \(ISO8601DateFormatter().string(from: validUntil))" }
        var state = "gone"
        do {
            state = try await ec2.describeInstances(ids: [id]).first?.state ?? "gone"
        } catch let e as AWSError where e.code == "InvalidInstanceID.NotFound" {}
        let expected = record.plan.target.hasProductCodes ? ["pending", "running", "stopping", "stopped"] : ["pending", "running"]
        return expected.contains(state) ? nil : "it is \(state)"
    }

    /// Replaces a rescue host that can no longer do its job: the root comes off it first (never
    /// terminated with the volume on it), then it is terminated and a new one is launched with
    /// fresh presigned URLs. A host that reported on its console that the agent failed on the disk
    /// is not replaced: that failure is the answer (a failed download is worth a fresh URL).
    /// Returns whether a new host was launched.
    @discardableResult
    func replaceStaleRescueHost(_ record: inout RunRecord) async throws -> Bool {
        guard let why = try await staleRescueHost(record) else { return false }
        if record.rescueInstanceID == nil {   // never recorded: launch (or find again, by its token) the first
            try await launchRescue(&record)
            return true
        }
        if let old = record.rescueInstanceID,
            let console = try? await ec2.getConsoleOutput(instanceId: old, latest: true),
            let report = try? ReportConsoleLine.find(in: console), !report.ok,
            let failure = report.error, failure.code != .agentDownloadFailed {
            throw AgentFailed(failure: failure)
        }
        guard !record.plan.keys.publicKeys.isEmpty else {
            throw ControllerError("the rescue host \(record.rescueInstanceID ?? "?") cannot do its job (\(why)), and this run was recovered from tags, which do not hold the key to give a new one")
        }
        let launches = record.rescueLaunches ?? 1
        guard launches < timing.maxRescueLaunches else {
            throw ControllerError("the rescue host \(record.rescueInstanceID ?? "?") cannot do its job (\(why)) and \(launches) were launched already")
        }
        events(.warning("the rescue host \(record.rescueInstanceID ?? "?") cannot do its job (\(why)); launching a new one"))
        if let old = record.rescueInstanceID {
            if try await rootVolume(record).attachments.first?.instanceId == old {
                try await moveRoot(away: old, &record)
                try save(&record, "root volume taken off the stale rescue host \(old)")
            }
            do { _ = try await ec2.terminateInstances(ids: [old]) } catch let e as AWSError where e.code.hasPrefix("InvalidInstanceID") {}
            record.retiredRescueInstanceIDs = (record.retiredRescueInstanceIDs ?? []) + [old]
            record.rescueInstanceID = nil   // a crash from here on relaunches with the new token, idempotently
        }
        // The new host reports to the same key: a report the old one left (its failed download,
        // say) must not be read as the new host's.
        do { try await aws.s3.deleteObject(record.plan.delivery.bucket, key: record.reportKey) } catch let e as AWSError where e.httpStatus == 404 {}
        record.rescueLaunches = launches + 1
        try save(&record, "replacing the rescue host (\(why))")
        try await launchRescue(&record)
        return true
    }
}
