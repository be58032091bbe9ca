import AWSKit
import Foundation
import RescueModel

/// Carrying out the core's actions: one cloud change each (plus what it must record).
extension RescueEngine {
    func perform(_ action: EngineAction, _ record: inout RunRecord, _ loop: inout LoopState) async throws {
        let t = record.plan.target
        switch action {
        case .createSnapshot: try await snapshot(&record)
        case .uploadAgent: try await upload(&record)
        case .stopTarget:
            // Journaled before the call: from here on the target may have changed.
            if record.stoppedAt == nil {
                record.stoppedAt = now
                try save(&record, "stop of \(t.instanceID) requested")
            }
            try await mirrorTags(record)
            try await cloud.stopInstance(t.instanceID)
        case .launchRescueHost: try await launchRescue(&record)
        case .retireRescueHost(let why): try await retireRescueHost(&record, why: why)
        case .stopRescueHost: try await cloud.stopInstance(record.rescueInstanceID ?? "")
        case .startRescueHost:
            // The agent of the first boot was cut short by the stop for the attach, and may have
            // reported that: the agent of this boot (a per-boot script) reports for real.
            try await cloud.deleteObject(record.plan.delivery.bucket, key: record.reportKey)
            try await cloud.startInstance(record.rescueInstanceID ?? "")
        case .detachRoot(let owner):
            record.rootVolumeWhere = "detaching from \(owner)"
            record.rootDetachRequestedAt = now
            try save(&record, "detach \(t.rootVolumeID) from \(owner)")
            try await cloud.detachVolume(t.rootVolumeID, from: owner)
            record.rootVolumeWhere = "detached (available); it belongs at \(t.instanceID) \(t.rootDeviceName)"
        case .attachRoot(let instance, let device):
            try await cloud.attachVolume(t.rootVolumeID, to: instance, device: device)
            record.rootVolumeWhere =
                instance == t.instanceID
                ? "attached to \(t.instanceID) at \(t.rootDeviceName)"
                : "attached to the rescue instance \(instance) at \(device)"
        case .terminateToFreeRoot(let host): try await terminateToFreeRoot(host, &record)
        case .forceDetachRoot(let owner):
            events(
                .warning(
                    "\(t.rootVolumeID) is still stuck detaching from \(owner), which is terminated: force-detaching it (the last resort; its filesystem may need a check at the next boot)"
                ))
            try await cloud.forceDetachVolume(t.rootVolumeID, from: owner)
        case .restoreDeleteOnTermination:
            try await cloud.setDeleteOnTermination(
                t.rootDeleteOnTermination, instanceID: t.instanceID, device: t.rootDeviceName)
        case .startTarget:
            try await startTarget(t.instanceID)
            record.startRequestedAt = now
        case .terminateRescueHost:
            // Its job is done: terminating it now overlaps its shutdown with the target's start,
            // instead of making cleanup wait for it before the security group can go.
            if let host = record.rescueInstanceID { try await cloud.terminateInstance(host) }
        case .acceptReport(let report):
            record.report = report
            if report.ok {
                events(
                    .note(
                        "agent: key for \(report.user ?? "?") written to \(report.authorizedKeysPath ?? "?") (\(report.filesystem ?? "?"))"
                    ))
                for warning in report.warnings { events(.warning("target: \(warning.message)")) }
            }
        case .enterStandby: try await moveStandby(enter: true, &record)
        case .exitStandby: try await moveStandby(enter: false, &record)
        case .cleanUp, .wait, .completeStep, .finish, .fail: break  // the loop's own
        }
    }

    /// A detach stuck on the rescue host: the root must survive the host's termination, so its
    /// mapping's DeleteOnTermination is made false first (AttachVolume sets it false; this checks).
    func terminateToFreeRoot(_ host: String, _ record: inout RunRecord) async throws {
        let root = record.plan.target.rootVolumeID
        let mapping = try await cloud.describeInstance(host)?.blockDeviceMappings.first { $0.volumeId == root }
        if let mapping, mapping.deleteOnTermination != false {
            try await cloud.setDeleteOnTermination(false, instanceID: host, device: mapping.deviceName)
        }
        events(.warning("\(root) is stuck detaching from the rescue host \(host): terminating the host to free it"))
        try await cloud.terminateInstance(host)
        record.rootFreedByTerminationAt = now
    }

    func snapshot(_ record: inout RunRecord) async throws {
        if let existing = try await cloud.snapshot(run: record.runID) {
            record.snapshotID = existing
            return
        }
        let id = try await cloud.createSnapshot(
            volumeID: record.plan.target.rootVolumeID,
            description: "keyrescue \(record.runID): root of \(record.plan.target.instanceID) before the key reset",
            tags: runTags(record, name: "keyrescue-\(record.runID)"))
        record.snapshotID = id
        events(.created(kind: "snapshot", id: id))
    }

    func upload(_ record: inout RunRecord) async throws {
        let d = record.plan.delivery
        if d.createBucket {
            try await cloud.prepareBucket(d.bucket, expirePrefix: "keyrescue/", days: 1)
            record.bucketCreated = true
        }
        let delivered = try await AgentDelivery.deliver(
            agentPath: d.agentPath, agentSHA256: d.agentSHA256, bucket: d.bucket, s3: CloudAgentStore(cloud: cloud),
            codec: environment.agentCodec)
        // The agent object is shared by later runs: only the report and the ready marker are this run's to delete.
        record.objectKeys = [record.reportKey, record.readyKey]
        let sizes = "\(delivered.uploadedBytes) bytes uploaded (\(delivered.compressedBytes) compressed)"
        events(.note("agent in s3://\(d.bucket)/\(delivered.key): \(sizes)"))
    }

    /// StartInstances; capacity and limit errors are retried with backoff, then the run stops
    /// resumable with the instance stopped and its root attached.
    func startTarget(_ target: String) async throws {
        var delays = timing.capacityRetryDelays[...]
        var attempts = 0
        while true {
            attempts += 1
            do {
                try await cloud.startInstance(target)
                return
            } catch let e as AWSError where e.isCapacity {
                guard let delay = delays.popFirst() else { throw NoCapacity(error: e, attempts: attempts) }
                events(.warning("no capacity to start \(target) yet (\(e.code)); retrying in \(Int(delay)) s"))
                try await environment.clock.sleep(seconds: delay)
            }
        }
    }

    func cleanUp(_ record: inout RunRecord) async throws {
        let bucket = record.plan.delivery.bucket
        try await terminateCurrentRescueHost(record)
        // The run's report also when a crash kept it out of the journal (none after a recovery
        // from tags: the bucket is unknown, and the objects expire by themselves). The agent under
        // keyrescue/agents/ is shared by every run (AgentDelivery): the bucket's expiry rule ends it.
        let keys = bucket.isEmpty ? [] : Array(Set(record.objectKeys + [record.reportKey, record.readyKey])).sorted()
        for key in keys {
            do { try await cloud.deleteObject(bucket, key: key) } catch {
                events(.warning("could not delete s3://\(bucket)/\(key): \(error) (it expires within a day)"))
            }
        }
        if let group = record.securityGroupID, record.plan.rescueHost.securityGroupID == nil {
            // The group can go only once no instance uses it (also when no host was launched).
            await waitTerminated((record.rescueInstanceID.map { [$0] } ?? []) + (record.retiredRescueInstanceIDs ?? []))
            do { try await cloud.deleteSecurityGroup(group) } catch {
                events(.warning("could not delete security group \(group): \(error); `keyrescue cleanup` retries"))
            }
        }
        try await cloud.deleteTags(record.plan.target.instanceID, keys: RunTags.all)
        if record.plan.options.deleteSnapshot, let snap = record.snapshotID, record.status == .inProgress {
            try await cloud.deleteSnapshot(snap)
            events(.note("snapshot \(snap) deleted (--delete-snapshot)"))
        }
    }

    /// Polls until every instance is terminated or unknown to EC2, within the instance deadline;
    /// gives up quietly (the group's deletion then says why).
    func waitTerminated(_ ids: [String]) async {
        let started = now
        var polls = 0
        while now.timeIntervalSince(started) < timing.instanceTimeout {
            polls += 1
            var remaining = false
            for id in ids {
                guard let state = try? await cloud.describeInstance(id)?.state else { continue }
                if state != .terminated { remaining = true }
            }
            guard remaining else { return }
            do {
                try await environment.clock.sleep(seconds: timing.schedule(.targetStopped, polls: polls).interval)
            } catch { return }
        }
    }

    func describe(_ step: RunStep, _ record: RunRecord) -> String {
        let t = record.plan.target
        switch step {
        case .planned: return ""
        case .snapshotted: return "snapshot of \(t.rootVolumeID)"
        case .agentUploaded: return "agent to s3://\(record.plan.delivery.bucket)"
        case .targetStopped: return "launch the rescue host, stop \(t.instanceID) once it is ready"
        case .rootDetached: return "detach \(t.rootVolumeID) from \(t.instanceID)"
        case .attachedToRescue: return "attach it to the rescue host at \(record.plan.rescueHost.attachDevice)"
        case .reportReceived: return "agent writes the key"
        case .detachedFromRescue: return "detach from the rescue host, terminate it"
        case .rootReturned: return "attach back at \(t.rootDeviceName)"
        case .targetRestored:
            return t.originalState == .running ? "start \(t.instanceID)" : "leave \(t.instanceID) stopped"
        case .cleanedUp: return "remove the rescue host's group, the objects and the tags"
        }
    }

    /// One line for the journal's history.
    static func words(_ action: EngineAction) -> String {
        switch action {
        case .createSnapshot: "snapshot"
        case .uploadAgent: "upload the agent"
        case .stopTarget: "stop the target"
        case .launchRescueHost: "launch the rescue host"
        case .retireRescueHost(let why): "retire the rescue host (\(why))"
        case .stopRescueHost: "stop the rescue host"
        case .startRescueHost: "start the rescue host"
        case .detachRoot(let owner): "detach the root from \(owner)"
        case .terminateToFreeRoot(let host): "terminate \(host) to free the root"
        case .forceDetachRoot(let owner): "force-detach the root from \(owner)"
        case .attachRoot(let instance, let device): "attach the root to \(instance) at \(device)"
        case .restoreDeleteOnTermination: "restore the root's DeleteOnTermination"
        case .startTarget: "start the target"
        case .terminateRescueHost: "terminate the rescue host"
        case .acceptReport(let report): "report received (\(report.ok ? "ok" : "failed"))"
        case .cleanUp: "clean up"
        case .enterStandby: "EnterStandby (desired capacity decremented)"
        case .exitStandby: "ExitStandby (desired capacity incremented)"
        case .wait(let wait): "wait: \(wait.rawValue)"
        case .completeStep(let step): "done: \(step.rawValue)"
        case .finish(let status): "finish: \(status.rawValue)"
        case .fail(let failure): "fail: \(failure)"
        }
    }
}
