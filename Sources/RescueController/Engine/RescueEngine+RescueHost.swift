import AWSKit
import Foundation
import RescueModel

/// The rescue host: its launch (security group, presigned URLs, user-data), type by type, and its
/// retirement when it can no longer do its job.
extension RescueEngine {
    /// The ClientToken of this run's n-th launch after k refused types: the run id for the first,
    /// `RUN-n` for each replacement, `-tk` after a refused type, so a token is never sent again
    /// with other parameters (another type, new URLs) and a replacement is never mistaken for the
    /// host it replaces.
    static func clientToken(_ record: RunRecord) -> String {
        let launch = record.rescueLaunches ?? 1
        let refused = record.rescueTypeFailures?.count ?? 0
        let parts = [record.runID] + (launch > 1 ? ["\(launch)"] : []) + (refused > 0 ? ["t\(refused)"] : [])
        return parts.joined(separator: "-")
    }

    /// Finds the host the current token launched, or launches one: the plan's types in order,
    /// the next one (with a new token) when EC2 refuses a type for want of it in the zone.
    func launchRescue(_ record: inout RunRecord) async throws {
        while true {
            let token = Self.clientToken(record)
            // A launch whose answer a crash lost: find its host by the token rather than send the
            // token again with new presigned URLs (EC2 answers IdempotentParameterMismatch).
            if let found = try await cloud.instance(launchToken: token) {
                record.rescueInstanceID = found.instanceId
                record.rescueLaunchedAt = now
                try save(&record, "rescue instance \(found.instanceId) found by its client token")
                if record.step >= .targetStopped { try await mirrorTags(record) }
                return
            }
            guard let type = RescueHostTypes.next(record) else {
                throw RescueHostTypes.NoneLaunched(
                    zone: record.plan.target.availabilityZone, failures: record.rescueTypeFailures ?? [])
            }
            do {
                try await launchRescue(&record, type: type, token: token)
                return
            } catch let e as AWSError where RescueHostTypes.refusals.contains(e.code) {
                try refused(type, code: e.code, message: e.message, &record)
            }
        }
    }

    private func launchRescue(_ record: inout RunRecord, type: String, token: String) async throws {
        let host = record.plan.rescueHost
        let group = try await securityGroup(&record)
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
        var request = RunInstancesRequest(imageId: host.imageID, instanceType: type, clientToken: token)
        request.subnetId = host.subnetID
        request.associatePublicIpAddress = host.associatePublicIP ? true : nil
        request.securityGroupIds = group.map { [$0] } ?? []
        request.userData = userData
        request.instanceInitiatedShutdownBehavior = "terminate"
        request.tags = runTags(record, name: "keyrescue-rescue-\(record.runID)") + [Tag(RunTags.launch, token)]
        let rescue = try await runInstances(request)
        events(.created(kind: "rescue instance", id: rescue.instanceId))
        record.rescueInstanceID = rescue.instanceId
        record.rescueLaunchedAt = now
        // The agent URL is used once, at boot; the report URL must last until the agent is done.
        record.rescueHostValidUntil = reportURL.validUntil
        try save(&record, "rescue instance \(rescue.instanceId) (\(type))")
        if record.step >= .targetStopped { try await mirrorTags(record) }
    }

    /// The plan's group, or the run's own (found by name after a crash, else created).
    private func securityGroup(_ record: inout RunRecord) async throws -> String? {
        if let group = record.plan.rescueHost.securityGroupID ?? record.securityGroupID { return group }
        let name = "keyrescue-\(record.runID)"
        let group: String
        if let existing = try await cloud.securityGroup(named: name) {
            group = existing
        } else {
            group = try await cloud.createSecurityGroup(
                name: name, description: "keyrescue rescue host, no ingress (run \(record.runID))",
                vpcID: record.plan.target.vpcID, tags: runTags(record, name: name))
        }
        record.securityGroupID = group
        try save(&record, "security group \(group)")
        return group
    }

    /// Journals a type EC2 refused (before the next token is used): a resume goes on from the
    /// next type.
    private func refused(_ type: String, code: String, message: String, _ record: inout RunRecord) throws {
        let failure = RunRecord.RescueTypeFailure(type: type, code: code, message: message)
        record.rescueTypeFailures = (record.rescueTypeFailures ?? []) + [failure]
        let next = RescueHostTypes.next(record).map { "trying \($0)" } ?? "no other type to try"
        events(.warning("EC2 refused the rescue host type \(type) (\(code)); \(next)"))
        try save(&record, "rescue host type \(type) refused: \(code) \(message)")
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
    /// gets a new ClientToken; a launch EC2 ended for want of capacity moves on to the next type.
    func retireRescueHost(_ record: inout RunRecord, why: String) async throws {
        guard let old = record.rescueInstanceID else { return }
        if let console = try? await cloud.consoleOutput(old), let report = try? ReportConsoleLine.find(in: console),
            !report.ok,
            let failure = report.error, failure.code != .agentDownloadFailed
        {
            throw EngineFailure.agent(failure)
        }
        if let host = try await cloud.describeInstance(old), let reason = RescueHostTypes.capacityEnded(host),
            let type = RescueHostTypes.next(record)
        {
            try refused(type, code: host.stateReasonCode ?? "", message: reason, &record)
        }
        events(.warning("the rescue host \(old) cannot do its job (\(why)); launching a new one"))
        try await cloud.terminateInstance(old)
        record.retiredRescueInstanceIDs = (record.retiredRescueInstanceIDs ?? []) + [old]
        record.rescueInstanceID = nil
        record.rescueHostValidUntil = nil
        record.rescueLaunchedAt = nil
        try await cloud.deleteObject(record.plan.delivery.bucket, key: record.reportKey)
        try await cloud.deleteObject(record.plan.delivery.bucket, key: record.readyKey)
        record.rescueLaunches = (record.rescueLaunches ?? 1) + 1
    }

    /// Cleanup's end of the current host: terminated unless a describe shows it gone. A NotFound
    /// within the window after its launch is asked again with backoff (a host EC2 does not know
    /// yet may be running already); past the window EC2 never made it.
    func terminateCurrentRescueHost(_ record: RunRecord) async throws {
        guard let host = record.rescueInstanceID else { return }
        let started = now
        var polls = 0
        while true {
            if let state = try await cloud.describeInstance(host)?.state {
                if !state.isGone { try await cloud.terminateInstance(host) }
                return
            }
            polls += 1
            let delay = timing.schedule(.rescueHostRunning, polls: polls).interval
            let launched = record.rescueLaunchedAt ?? started
            guard now.timeIntervalSince(launched) + delay < timing.eventualConsistency else { return }
            try await environment.clock.sleep(seconds: delay)
        }
    }

    /// The recorded rescue host as EC2 shows it, and why EC2 ended its launch when that was for
    /// want of capacity. A NotFound is not taken for gone while EC2 may not know the host yet:
    /// until `eventualConsistency` after its launch (journaled, so also on `resume`; when unknown,
    /// after the first NotFound this process saw) it counts as pending and is polled again with
    /// the wait's backoff. A describe showing it terminated is what confirms it gone.
    func observeRescueHost(_ host: String, _ record: RunRecord, _ loop: inout LoopState) async throws
        -> (CloudObservation.HostView, launchFailure: String?)
    {
        if let instance = try await cloud.describeInstance(host) {
            loop.rescueHostUnseenSince = nil
            return (.state(instance.state), RescueHostTypes.capacityEnded(instance))
        }
        let unseenSince = loop.rescueHostUnseenSince ?? now
        let launched = record.rescueLaunchedAt ?? unseenSince
        guard now.timeIntervalSince(launched) < timing.eventualConsistency else { return (.gone, nil) }
        if loop.rescueHostUnseenSince == nil {
            events(.note("EC2 does not know the rescue host \(host) (yet?): asking again before taking it for gone"))
        }
        loop.rescueHostUnseenSince = unseenSince
        return (.state(.pending), nil)
    }
}
