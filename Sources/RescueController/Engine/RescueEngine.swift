import AWSKit
import Foundation
import Glibc
import RescueModel

/// How the engine polls: volume moves closely (a user is waiting), instance states with backoff.
public struct EngineTiming: Sendable {
    public var volumeMove = WaitSchedule.fixed(interval: 1, timeout: 600)
    public var volumeMoveTimeout: Double = 600
    public var instanceState = WaitSchedule.backoff(initial: 2, maxInterval: 5, timeout: 1200)
    public var reportPoll: Double = 2
    public var consoleEvery: Double = 20
    public var reportTimeout: Double = 900
    public var agentURLLifetime = 1800
    public var reportURLLifetime = 3600
    /// A rescue host whose report URL expires sooner than this is replaced rather than waited for.
    public var reportURLMargin: Double = 600
    /// At most this many rescue hosts per run (the first and its replacements).
    public var maxRescueLaunches = 3
    /// Waits between StartInstances attempts answered InsufficientInstanceCapacity.
    public var capacityRetryDelays: [Double] = [5, 10, 20, 40]
    public init() {}
}

/// Executes a RescuePlan step by step (RunStep), journaling before and after each step and
/// mirroring the state in tags on the target; rolls back on failure; resumes from the journal.
/// Every step checks the cloud before acting, so running it again after a crash is safe.
public final class RescueEngine: @unchecked Sendable {
    let aws: AWSClient
    let journal: JournalStore
    let events: ProgressSink
    let timing: EngineTiming
    /// Test hook for the fault matrix: the process kills itself (SIGKILL) right after this step is journaled.
    public var killAfter: RunStep?

    public init(aws: AWSClient, journal: JournalStore, timing: EngineTiming = EngineTiming(), events: @escaping ProgressSink) {
        self.aws = aws
        self.journal = journal
        self.timing = timing
        self.events = events
    }

    var ec2: EC2Client { aws.ec2 }

    public func execute(_ plan: RescuePlan) async throws -> RescueOutcome {
        var record = RunRecord(plan: plan, now: Date())
        try journal.lock(plan.runID)
        defer { journal.unlock(plan.runID) }
        try save(&record, "planned: \(plan.target.instanceID), root \(plan.target.rootVolumeID) at \(plan.target.rootDeviceName)")
        return try await drive(&record)
    }

    public func resume(_ record: RunRecord) async throws -> RescueOutcome {
        var record = record
        try journal.lock(record.runID)
        defer { journal.unlock(record.runID) }
        guard record.status != .done else { return outcome(record) }
        guard record.status != .rolledBack else {
            throw RescueFailure(runID: record.runID, message: "run \(record.runID) was rolled back", state: "rolled back", next: "start a new rescue with keyrescue reset")
        }
        record.status = .inProgress
        try save(&record, "resumed at step \(record.step.next?.rawValue ?? "end")")
        return try await drive(&record)
    }

    public func rollback(_ record: RunRecord) async throws -> RunRecord {
        var record = record
        try journal.lock(record.runID)
        defer { journal.unlock(record.runID) }
        try await rollBack(&record)
        return record
    }

    // MARK: the forward path

    func drive(_ record: inout RunRecord) async throws -> RescueOutcome {
        do {
            while let next = StepMachine.nextStep(record.step, status: record.status) {
                let started = Date()
                events(.stepStarted(step: next.rawValue, detail: describe(next, record)))
                try await perform(next, &record)
                record.step = next
                try save(&record, "done: \(next.rawValue)")
                if record.status == .inProgress, next.targetTouched, next < .cleanedUp { try await mirrorTags(record) }
                events(.stepFinished(step: next.rawValue, seconds: Date().timeIntervalSince(started)))
                if killAfter == next { kill(getpid(), SIGKILL) }
            }
            record.status = .done
            try save(&record, "rescue complete")
            return outcome(record)
        } catch let failure as RescueFailure {
            throw failure
        } catch let shortage as NoCapacity {
            // Not a reason to undo anything: the key is written and the root is back. Stop here,
            // resumable; `resume` starts the instance and cleans up.
            let t = record.plan.target
            record.status = .needsAttention
            record.lastError = "\(shortage.error)"
            try? save(&record, "no capacity to start \(t.instanceID): left stopped, root attached at \(t.rootDeviceName)")
            throw RescueFailure(
                runID: record.runID, message: "EC2 has no capacity to start \(t.instanceID) now (InsufficientInstanceCapacity, \(shortage.attempts) attempts)",
                state: "resumable — the key is written; \(t.instanceID) is stopped with its root volume attached at \(t.rootDeviceName)",
                next: "run `keyrescue resume \(record.runID)` in a few minutes: it starts the instance and cleans up")
        } catch {
            record.lastError = "\(error)"
            try? save(&record, "failed during \(record.step.next?.rawValue ?? "?"): \(error)")
            try await recover(from: error, &record)
        }
    }

    private func recover(from error: any Error, _ record: inout RunRecord) async throws -> Never {
        let reason = (error as? AgentFailed).map { "the agent failed: \($0.failure.description)" } ?? "\(error)"
        events(.warning("\(reason) — rolling back"))
        do {
            try await rollBack(&record)
        } catch {
            record.status = .needsAttention
            try? save(&record, "rollback stopped: \(error)")
            throw RescueFailure(
                runID: record.runID, message: "\(reason); the rollback stopped too: \(error)",
                state: "resumable — the root volume is \(record.rootVolumeWhere)",
                next: "fix the cause, then `keyrescue rollback \(record.runID)` (or `keyrescue resume \(record.runID)`)")
        }
        throw RescueFailure(
            runID: record.runID, message: reason, state: "rolled back — the instance is as it was; snapshot \(record.snapshotID ?? "none") kept",
            next: (error as? AgentFailed)?.failure.hint ?? "fix the cause and run keyrescue reset again")
    }

    func perform(_ step: RunStep, _ record: inout RunRecord) async throws {
        switch step {
        case .planned: break
        case .snapshotted: try await snapshot(&record)
        case .agentUploaded: try await upload(&record)
        case .targetStopped: try await stopAndLaunch(&record)
        case .rootDetached: try await moveRoot(away: record.plan.target.instanceID, &record)
        case .attachedToRescue:
            try await replaceStaleRescueHost(&record)
            try await attachToRescue(&record)
        case .reportReceived:
            if try await reportFromS3(record) == nil, try await replaceStaleRescueHost(&record) {
                try await attachToRescue(&record)
            }
            try await awaitReport(&record)
        case .detachedFromRescue:
            try await moveRoot(away: record.rescueInstanceID, &record)
            // Its job is done: terminating it now overlaps its shutdown with the target's start,
            // instead of making cleanup wait for it before the security group can go.
            try await terminateRescueHost(record)
        case .rootReturned: try await returnRoot(&record)
        case .targetRestored: try await restoreRunState(&record)
        case .cleanedUp: try await cleanUp(&record)
        }
    }

    func snapshot(_ record: inout RunRecord) async throws {
        let tagged = try await ec2.describeSnapshots(filters: [EC2Filter("tag:\(RunTags.run)", [record.runID])])
        if let existing = tagged.first {
            record.snapshotID = existing.snapshotId
            return
        }
        let snap = try await ec2.createSnapshot(
            volumeId: record.plan.target.rootVolumeID,
            description: "keyrescue \(record.runID): root of \(record.plan.target.instanceID) before the key reset",
            tags: runTags(record, name: "keyrescue-\(record.runID)"))
        record.snapshotID = snap.snapshotId
        events(.created(kind: "snapshot", id: snap.snapshotId))
    }

    func upload(_ record: inout RunRecord) async throws {
        let d = record.plan.delivery
        if d.createBucket {
            do { try await aws.s3.createBucket(d.bucket) } catch let e as AWSError where e.code == "BucketAlreadyOwnedByYou" {}
            try await aws.s3.putPublicAccessBlock(d.bucket)
            try await aws.s3.putExpiryRule(d.bucket, id: "keyrescue-expire", prefix: "keyrescue/", days: 1)
            record.bucketCreated = true
        }
        let delivered = try await AgentDelivery.deliver(
            agentPath: d.agentPath, agentSHA256: d.agentSHA256, bucket: d.bucket, s3: aws.s3)
        // The agent object is shared by later runs: only the report is this run's to delete.
        record.objectKeys = [record.reportKey]
        let sizes = "\(delivered.uploadedBytes) bytes uploaded (\(delivered.compressedBytes) compressed)"
        events(.note("agent in s3://\(d.bucket)/\(delivered.key): \(sizes)"))
    }

    /// The target's stop and the rescue host's boot overlap: StopInstances returns at once, the
    /// rescue host is launched, and only then does the engine wait for the target to stop.
    func stopAndLaunch(_ record: inout RunRecord) async throws {
        let target = record.plan.target.instanceID
        try await mirrorTags(record)
        let current = try await instance(target)
        if ["running", "pending"].contains(current.state) {
            _ = try await ec2.stopInstances(ids: [target])
            record.stoppedAt = Date()
            try save(&record, "stop requested for \(target)")
        } else if record.stoppedAt == nil, current.state != "stopped" {
            record.stoppedAt = Date()
        }
        try await launchRescue(&record)
        _ = try await ec2.wait(EC2Waiters.instanceStopped, instanceIds: [target], schedule: timing.instanceState) { p in
            self.events(.waiting(step: "targetStopped", observed: p.observed, elapsed: p.elapsed))
        }
    }

    /// Detaches the root from `owner` (the target or the rescue host) and waits until it is available.
    func moveRoot(away owner: String?, _ record: inout RunRecord) async throws {
        let volumeID = record.plan.target.rootVolumeID
        var volume = try await rootVolume(record)
        if volume.attachments.first?.state == "attaching" {  // a move cut short: let it finish first
            try await waitAttached(volumeID)
            volume = try await rootVolume(record)
        }
        if let attachment = volume.attachments.first, attachment.instanceId == owner, attachment.state != "detaching" {
            record.rootVolumeWhere = "detaching from \(owner ?? "?") (\(attachment.device ?? "?"))"
            try save(&record, "detach \(volumeID) from \(owner ?? "?")")
            _ = try await ec2.detachVolume(volumeId: volumeID, instanceId: owner)
        }
        _ = try await ec2.wait(EC2Waiters.volumeAvailable, volumeIds: [volumeID], schedule: timing.volumeMove) { p in
            self.events(.waiting(step: "detach", observed: p.observed, elapsed: p.elapsed))
        }
        record.rootVolumeWhere = "detached (available); it belongs at \(record.plan.target.instanceID) \(record.plan.target.rootDeviceName)"
    }

    func attachToRescue(_ record: inout RunRecord) async throws {
        guard let rescue = record.rescueInstanceID else { throw ControllerError("no rescue instance recorded") }
        let marketplace = record.plan.target.hasProductCodes
        _ = try await ec2.wait(EC2Waiters.instanceRunning, instanceIds: [rescue], schedule: timing.instanceState) { p in
            self.events(.waiting(step: "rescue running", observed: p.observed, elapsed: p.elapsed))
        }
        if marketplace {
            // Volumes with Marketplace codes attach only to stopped instances.
            _ = try await ec2.stopInstances(ids: [rescue])
            _ = try await ec2.wait(EC2Waiters.instanceStopped, instanceIds: [rescue], schedule: timing.instanceState)
        }
        try await attach(record, to: rescue, device: record.plan.rescueHost.attachDevice)
        record.rootVolumeWhere = "attached to the rescue instance \(rescue) at \(record.plan.rescueHost.attachDevice)"
        if marketplace { _ = try await ec2.startInstances(ids: [rescue]) }
    }

    func attach(_ record: RunRecord, to instanceID: String, device: String) async throws {
        let volumeID = record.plan.target.rootVolumeID
        let volume = try await rootVolume(record)
        if volume.attachments.first?.instanceId != instanceID {
            _ = try await ec2.attachVolume(volumeId: volumeID, instanceId: instanceID, device: device)
        }
        try await waitAttached(volumeID)
    }

    /// The volume's state says `in-use` as soon as an attachment starts; the move is done only
    /// when the attachment itself says `attached` (botocore's VolumeInUse waiter stops too early).
    func waitAttached(_ volumeID: String) async throws {
        let started = Date()
        while true {
            let volume = try await ec2.describeVolumes(ids: [volumeID]).first
            let state = volume?.attachments.first?.state ?? volume?.state ?? "gone"
            events(.waiting(step: "attach", observed: "\(volumeID) \(state)", elapsed: Date().timeIntervalSince(started)))
            if state == "attached" { return }
            guard ["attaching", "in-use", "available"].contains(state), Date().timeIntervalSince(started) < timing.volumeMoveTimeout else {
                throw ControllerError("\(volumeID) did not attach (it is \(state))")
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
    }

    func returnRoot(_ record: inout RunRecord) async throws {
        let t = record.plan.target
        try await attach(record, to: t.instanceID, device: t.rootDeviceName)
        // AttachVolume sets DeleteOnTermination to false: put back what the instance had (also when
        // a crash came between the attach and this, so check rather than assume).
        let mapping = try await instance(t.instanceID).blockDeviceMappings.first { $0.deviceName == t.rootDeviceName }
        if mapping?.deleteOnTermination != t.rootDeleteOnTermination {
            try await ec2.setDeleteOnTermination(instanceId: t.instanceID, device: t.rootDeviceName, t.rootDeleteOnTermination)
        }
        record.rootVolumeWhere = "attached to \(t.instanceID) at \(t.rootDeviceName)"
    }

    /// Starts the target when it was running; InsufficientInstanceCapacity is retried with backoff,
    /// then reported with the instance left stopped and its root attached.
    func restoreRunState(_ record: inout RunRecord) async throws {
        let target = record.plan.target.instanceID
        guard record.plan.target.originalState == "running" else { return }
        if try await instance(target).state == "stopping" {
            _ = try await ec2.wait(EC2Waiters.instanceStopped, instanceIds: [target], schedule: timing.instanceState)
        }
        if try await instance(target).state == "stopped" {
            var delays = timing.capacityRetryDelays[...]
            var attempts = 0
            while true {
                attempts += 1
                do {
                    _ = try await ec2.startInstances(ids: [target])
                    break
                } catch let e as AWSError where e.code == "InsufficientInstanceCapacity" {
                    guard let delay = delays.popFirst() else { throw NoCapacity(error: e, attempts: attempts) }
                    events(.warning("no capacity to start \(target) yet; retrying in \(Int(delay)) s"))
                    try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                }
            }
        }
        _ = try await ec2.wait(EC2Waiters.instanceRunning, instanceIds: [target], schedule: timing.instanceState) { p in
            self.events(.waiting(step: "targetRestored", observed: p.observed, elapsed: p.elapsed))
        }
        record.restartedAt = Date()
    }

    func terminateRescueHost(_ record: RunRecord) async throws {
        guard let rescue = record.rescueInstanceID else { return }
        do {
            guard let state = try await ec2.describeInstances(ids: [rescue]).first?.state,
                !["shutting-down", "terminated"].contains(state) else { return }
            _ = try await ec2.terminateInstances(ids: [rescue])
        } catch let e as AWSError where e.code.hasPrefix("InvalidInstanceID") {}
    }

    func cleanUp(_ record: inout RunRecord) async throws {
        try await terminateRescueHost(record)
        for key in record.objectKeys {
            do { try await aws.s3.deleteObject(record.plan.delivery.bucket, key: key) } catch {
                events(.warning("could not delete s3://\(record.plan.delivery.bucket)/\(key): \(error) (it expires within a day)"))
            }
        }
        if let rescue = record.rescueInstanceID, let group = record.securityGroupID {
            // The group can go only once no instance uses it.
            _ = try? await ec2.wait(EC2Waiters.instanceTerminated, instanceIds: [rescue] + (record.retiredRescueInstanceIDs ?? []),
                                    schedule: timing.instanceState)
            do { try await ec2.deleteSecurityGroup(id: group) } catch {
                events(.warning("could not delete security group \(group): \(error); `keyrescue cleanup` retries"))
            }
        }
        try await ec2.deleteTags(resources: [record.plan.target.instanceID], keys: RunTags.all)
        if record.plan.options.deleteSnapshot, let snap = record.snapshotID, record.status == .inProgress {
            try await ec2.deleteSnapshot(id: snap)
            events(.note("snapshot \(snap) deleted (--delete-snapshot)"))
        }
    }

    // MARK: report

    func awaitReport(_ record: inout RunRecord) async throws {
        let started = Date()
        var lastConsole = Date.distantPast
        var lastSeen = ""
        while true {
            var report = try await reportFromS3(record)
            if report == nil { report = try await consoleReport(record, &lastConsole, &lastSeen) }
            if let report {
                record.report = report
                guard report.ok else {
                    throw AgentFailed(failure: report.error ?? .init(.unrecognized, "the agent reported failure without a reason", hint: ""))
                }
                events(.note("agent: key for \(report.user ?? "?") written to \(report.authorizedKeysPath ?? "?") (\(report.filesystem ?? "?"))"))
                for warning in report.warnings { events(.warning("target: \(warning.message)")) }
                return
            }
            let elapsed = Date().timeIntervalSince(started)
            guard elapsed < timing.reportTimeout else {
                throw ControllerError("no report from the agent after \(Int(elapsed)) s; last console line: \(lastSeen.isEmpty ? "(none)" : lastSeen)")
            }
            events(.waiting(step: "reportReceived", observed: lastSeen.isEmpty ? "waiting for the agent" : lastSeen, elapsed: elapsed))
            try await Task.sleep(nanoseconds: UInt64(timing.reportPoll * 1e9))
        }
    }

    func reportFromS3(_ record: RunRecord) async throws -> RescueReport? {
        do {
            let data = try await aws.s3.getObject(record.plan.delivery.bucket, key: record.reportKey)
            return try WireFormat.decodeReport(Array(data))
        } catch let e as AWSError where e.httpStatus == 404 || e.code == "NoSuchKey" {
            return nil
        }
    }

    func consoleReport(_ record: RunRecord, _ last: inout Date, _ lastSeen: inout String) async throws -> RescueReport? {
        guard let rescue = record.rescueInstanceID, Date().timeIntervalSince(last) >= timing.consoleEvery else { return nil }
        last = Date()
        guard let console = try? await ec2.getConsoleOutput(instanceId: rescue, latest: true), !console.isEmpty else { return nil }
        lastSeen = console.split(whereSeparator: \.isNewline).last { $0.contains("keyrescue[") }.map(String.init) ?? lastSeen
        return try? ReportConsoleLine.find(in: console)
    }

    // MARK: rollback

    /// Puts the root back on the target at its root device, restores the run state, removes the
    /// rescue host, the group, the objects and the tags; keeps the snapshot. Reads where things
    /// really are from EC2 first, so it works from any point and after any crash.
    func rollBack(_ record: inout RunRecord) async throws {
        record.status = .rollingBack
        try save(&record, "rolling back")
        events(.stepStarted(step: "rollback", detail: "root volume back to \(record.plan.target.instanceID)"))
        let t = record.plan.target
        var volume = try await rootVolume(record)
        if volume.attachments.first?.state == "attaching" {
            try await waitAttached(t.rootVolumeID)
            volume = try await rootVolume(record)
        }
        if let owner = volume.attachments.first?.instanceId, owner != t.instanceID {
            try await moveRoot(away: owner, &record)
        } else if volume.state == "in-use", volume.attachments.first?.state == "detaching" {
            _ = try await ec2.wait(EC2Waiters.volumeAvailable, volumeIds: [t.rootVolumeID], schedule: timing.volumeMove)
        }
        let attachment = try await rootVolume(record).attachments.first
        if attachment == nil, try await instance(t.instanceID).state == "stopping" {
            _ = try await ec2.wait(EC2Waiters.instanceStopped, instanceIds: [t.instanceID], schedule: timing.instanceState)
        }
        if attachment == nil || attachment?.instanceId == t.instanceID {
            try await returnRoot(&record)   // also when it is back already: its DeleteOnTermination may not be
        }
        record.rootVolumeWhere = "attached to \(t.instanceID) at \(t.rootDeviceName)"
        try save(&record, "root volume back on \(t.instanceID)")
        try await restoreRunState(&record)
        try await cleanUp(&record)
        record.status = .rolledBack
        try save(&record, "rolled back")
    }

    // MARK: helpers

    func instance(_ id: String) async throws -> Instance {
        guard let found = try await ec2.describeInstances(ids: [id]).first else { throw ControllerError("instance \(id) is gone") }
        return found
    }

    func rootVolume(_ record: RunRecord) async throws -> Volume {
        guard let volume = try await ec2.describeVolumes(ids: [record.plan.target.rootVolumeID]).first else {
            throw ControllerError("the root volume \(record.plan.target.rootVolumeID) is not found")
        }
        return volume
    }

    func runTags(_ record: RunRecord, name: String) -> [Tag] {
        [Tag(RunTags.run, record.runID), Tag("Name", name)]
    }

    func mirrorTags(_ record: RunRecord) async throws {
        try await ec2.createTags(resources: [record.plan.target.instanceID], tags: RunTags.values(record).map { Tag($0.0, $0.1) })
    }

    func save(_ record: inout RunRecord, _ line: String) throws {
        record.updatedAt = Date()
        record.history.append("\(ISO8601DateFormatter().string(from: record.updatedAt)) \(line)")
        try journal.save(record)
    }

    func describe(_ step: RunStep, _ record: RunRecord) -> String {
        let t = record.plan.target
        switch step {
        case .planned: return ""
        case .snapshotted: return "snapshot of \(t.rootVolumeID)"
        case .agentUploaded: return "agent to s3://\(record.plan.delivery.bucket)"
        case .targetStopped: return "stop \(t.instanceID), launch the rescue host meanwhile"
        case .rootDetached: return "detach \(t.rootVolumeID) from \(t.instanceID)"
        case .attachedToRescue: return "attach it to the rescue host at \(record.plan.rescueHost.attachDevice)"
        case .reportReceived: return "agent writes the key"
        case .detachedFromRescue: return "detach from the rescue host, terminate it"
        case .rootReturned: return "attach back at \(t.rootDeviceName)"
        case .targetRestored: return t.originalState == "running" ? "start \(t.instanceID)" : "leave \(t.instanceID) stopped"
        case .cleanedUp: return "remove the rescue host's group, the objects and the tags"
        }
    }

    func outcome(_ record: RunRecord) -> RescueOutcome {
        RescueOutcome(
            runID: record.runID, instanceID: record.plan.target.instanceID, user: record.report?.user,
            address: nil, keyFingerprint: record.report?.keyFingerprint,
            hostKeys: record.report?.hostKeys.map(\.knownHostsKey) ?? [],
            hostKeyFingerprints: record.report?.hostKeys.map { "\($0.type) \($0.fingerprint)" } ?? [],
            snapshotID: record.snapshotID, downtimeSeconds: record.downtime, finalState: record.plan.target.originalState,
            warnings: record.report?.warnings.map(\.message) ?? [])
    }
}

/// StartInstances kept answering InsufficientInstanceCapacity.
struct NoCapacity: Error {
    var error: AWSError
    var attempts: Int
}

struct AgentFailed: Error, CustomStringConvertible {
    var failure: RescueReport.Failure
    var description: String { failure.description }
}
