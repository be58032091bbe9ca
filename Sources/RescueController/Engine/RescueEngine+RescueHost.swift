import AWSKit
import Foundation
import RescueModel

/// The rescue host: its launch (security group, presigned URLs, user-data) and its retirement
/// when it can no longer do its job.
extension RescueEngine {
    /// The ClientToken of this run's n-th launch: the run id for the first, `RUN-n` for each
    /// replacement, so a replacement is never mistaken for the host it replaces.
    static func clientToken(_ record: RunRecord) -> String {
        let launch = record.rescueLaunches ?? 1
        return launch == 1 ? record.runID : "\(record.runID)-\(launch)"
    }

    func launchRescue(_ record: inout RunRecord) async throws {
        let token = Self.clientToken(record)
        // A launch whose answer a crash lost: find its host by the token rather than send the
        // token again with new presigned URLs (EC2 answers IdempotentParameterMismatch).
        if let found = try await cloud.instance(launchToken: token) {
            record.rescueInstanceID = found.instanceId
            try save(&record, "rescue instance \(found.instanceId) found by its client token")
            if record.step >= .targetStopped { try await mirrorTags(record) }
            return
        }
        let host = record.plan.rescueHost
        var group = host.securityGroupID ?? record.securityGroupID
        if group == nil {
            let name = "keyrescue-\(record.runID)"
            if let existing = try await cloud.securityGroup(named: name) {
                group = existing
            } else {
                group = try await cloud.createSecurityGroup(
                    name: name, description: "keyrescue rescue host, no ingress (run \(record.runID))",
                    vpcID: record.plan.target.vpcID, tags: runTags(record, name: name))
            }
            record.securityGroupID = group
            try save(&record, "security group \(group ?? "?")")
        }
        let job = RescueJob(
            runID: record.runID, volumeID: record.plan.target.rootVolumeID, deviceName: host.attachDevice,
            publicKeys: record.plan.keys.publicKeys, user: record.plan.keys.user, replace: record.plan.keys.replace,
            options: .init(volumeWaitSeconds: timing.agentVolumeWait(marketplace: record.plan.target.hasProductCodes)))
        let d = record.plan.delivery
        let agentURL = try await cloud.presign(
            "GET", bucket: d.bucket, key: record.agentKey, expires: timing.agentURLLifetime)
        let readyURL = try await cloud.presign(
            "PUT", bucket: d.bucket, key: record.readyKey, expires: timing.agentURLLifetime)
        let reportURL = try await cloud.presign(
            "PUT", bucket: d.bucket, key: record.reportKey, expires: timing.reportURLLifetime)
        let userData = try UserData.render(
            UserData.Values(
                runID: record.runID, agentURL: agentURL.url.absoluteString, agentSHA256: d.agentSHA256,
                reportURL: reportURL.url.absoluteString, job: job, readyURL: readyURL.url.absoluteString,
                perBoot: record.plan.target.hasProductCodes))
        var request = RunInstancesRequest(imageId: host.imageID, instanceType: host.instanceType, clientToken: token)
        request.subnetId = host.subnetID
        request.associatePublicIpAddress = host.associatePublicIP ? true : nil
        request.securityGroupIds = group.map { [$0] } ?? []
        request.userData = userData
        request.instanceInitiatedShutdownBehavior = "terminate"
        request.tags = runTags(record, name: "keyrescue-rescue-\(record.runID)") + [Tag(RunTags.launch, token)]
        let rescue = try await runInstances(request)
        events(.created(kind: "rescue instance", id: rescue.instanceId))
        record.rescueInstanceID = rescue.instanceId
        // The agent URL is used once, at boot; the report URL must last until the agent is done.
        record.rescueHostValidUntil = reportURL.validUntil
        try save(&record, "rescue instance \(rescue.instanceId)")
        if record.step >= .targetStopped { try await mirrorTags(record) }
    }

    /// RunInstances; a NotFound right after the group was created (EC2 is eventually consistent)
    /// is sent again, with the same token and parameters, for a bounded time.
    func runInstances(_ request: RunInstancesRequest) async throws -> Instance {
        let started = now
        var polls = 0
        while true {
            do { return try await cloud.runInstances(request) } catch let e as AWSError where e.isNotFound {
                polls += 1
                let delay = timing.schedule(.rescueHostRunning, polls: polls).interval
                guard now.timeIntervalSince(started) + delay <= timing.eventualConsistency else { throw e }
                events(.note("EC2 does not know a resource it just made yet (\(e.code)); retrying in \(Int(delay)) s"))
                try await environment.clock.sleep(seconds: delay)
            }
        }
    }

    /// Retires a host that can no longer do its job (the core took the root off it first): a
    /// host that reported on its console that the agent failed on the disk is not replaced (that
    /// failure is the answer; a failed download is worth a fresh URL). Otherwise it is terminated,
    /// a report it left is deleted (the new host reports to the same key), and the next launch
    /// gets a new ClientToken.
    func retireRescueHost(_ record: inout RunRecord, why: String) async throws {
        guard let old = record.rescueInstanceID else { return }
        if let console = try? await cloud.consoleOutput(old), let report = try? ReportConsoleLine.find(in: console),
            !report.ok,
            let failure = report.error, failure.code != .agentDownloadFailed
        {
            throw EngineFailure.agent(failure)
        }
        events(.warning("the rescue host \(old) cannot do its job (\(why)); launching a new one"))
        try await cloud.terminateInstance(old)
        record.retiredRescueInstanceIDs = (record.retiredRescueInstanceIDs ?? []) + [old]
        record.rescueInstanceID = nil
        record.rescueHostValidUntil = nil
        try await cloud.deleteObject(record.plan.delivery.bucket, key: record.reportKey)
        try await cloud.deleteObject(record.plan.delivery.bucket, key: record.readyKey)
        record.rescueLaunches = (record.rescueLaunches ?? 1) + 1
    }
}
