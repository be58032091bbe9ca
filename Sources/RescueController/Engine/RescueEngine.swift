import AWSKit
import Foundation
import RescueModel

/// The driver: observes the cloud, asks the pure core (RescueDecision) for the next action,
/// carries it out through `RescueCloud`, journals before and after each action and mirrors the
/// run in tags on the target. Rolls back on failure; resumes from the journal. Holds no mutable
/// state: a run's state is its record, passed along.
public final class RescueEngine: Sendable {
    let cloud: any RescueCloud
    let journal: JournalStore
    let events: ProgressSink
    let timing: EngineTiming
    let environment: EngineEnvironment

    public init(
        cloud: any RescueCloud, journal: JournalStore, timing: EngineTiming = EngineTiming(),
        environment: EngineEnvironment = EngineEnvironment(), events: @escaping ProgressSink
    ) {
        self.cloud = cloud
        self.journal = journal
        self.timing = timing
        self.environment = environment
        self.events = events
    }

    public convenience init(
        aws: AWSClient, journal: JournalStore, timing: EngineTiming = EngineTiming(),
        environment: EngineEnvironment = EngineEnvironment(), events: @escaping ProgressSink
    ) {
        self.init(
            cloud: AWSRescueCloud(aws), journal: journal, timing: timing, environment: environment, events: events)
    }

    var now: Date { environment.clock.now() }

    public func execute(_ plan: RescuePlan) async throws -> RescueOutcome {
        var record = RunRecord(plan: plan, now: now)
        try lock(plan.runID)
        defer { journal.unlock(plan.runID) }
        record.carryDoorLines(from: try? journal.load(plan.runID))
        do {
            try save(
                &record,
                "planned: \(plan.target.instanceID), root \(plan.target.rootVolumeID) at \(plan.target.rootDeviceName)")
        } catch {
            throw RescueFailure(
                runID: plan.runID, message: "cannot write the journal: \(error)", disposition: .nothingChanged,
                state: "the instance was not touched",
                next: "make \(journal.directory.path) writable, then run keyrescue reset again")
        }
        return try await drive(&record)
    }

    public func resume(_ record: RunRecord) async throws -> RescueOutcome {
        var record = record
        try lock(record.runID)
        defer { journal.unlock(record.runID) }
        guard record.status != .done else { return outcome(record) }
        guard record.status != .rolledBack else {
            throw RescueFailure(
                runID: record.runID, message: "run \(record.runID) was rolled back", disposition: .nothingChanged,
                state: "the instance is as it was", next: "start a new rescue with keyrescue reset")
        }
        record.status = .inProgress
        record.startRequestedAt = nil
        try saveOrFail(&record, "resumed at step \(record.step.next?.rawValue ?? "end")")
        return try await drive(&record)
    }

    public func rollback(_ record: RunRecord) async throws -> RunRecord {
        var record = record
        try lock(record.runID)
        defer { journal.unlock(record.runID) }
        do {
            try await rollBack(&record)
        } catch let stop as EngineInterrupted {
            throw stop.cause
        } catch {
            throw await stopped(&record, reason: "the rollback failed", error)
        }
        return record
    }

    // MARK: forward

    func drive(_ record: inout RunRecord) async throws -> RescueOutcome {
        do {
            try await run(&record)
            return outcome(record)
        } catch let stop as EngineInterrupted {
            throw stop.cause
        } catch let failure as RescueFailure {
            throw failure
        } catch let shortage as NoCapacity {
            // Not a reason to undo anything: the key is written and the root is back. Stop here,
            // resumable; `resume` starts the instance and cleans up.
            let t = record.plan.target
            record.status = .needsAttention
            record.lastError = "\(shortage.error)"
            let unsaved = saveReporting(
                &record, "no capacity to start \(t.instanceID): left stopped, root attached at \(t.rootDeviceName)")
            throw RescueFailure(
                runID: record.runID,
                message:
                    "EC2 has no capacity to start \(t.instanceID) now (\(shortage.error.code), \(shortage.attempts) attempts)\(unsaved)",
                disposition: .resumable,
                state:
                    "the key is written; \(t.instanceID) is stopped with its root volume attached at \(t.rootDeviceName)\(standbyNote(record))",
                next: "run `keyrescue resume \(record.runID)` in a few minutes: it starts the instance and cleans up")
        } catch EngineFailure.startFellBack(let why) {
            // Like a lasting capacity error: the key is written and the root is back; nothing to undo.
            let t = record.plan.target
            record.status = .needsAttention
            record.lastError = why
            let unsaved = saveReporting(&record, "start of \(t.instanceID) fell back to stopped: \(why)")
            throw RescueFailure(
                runID: record.runID,
                message: "\(t.instanceID) went back to stopped after StartInstances: \(why)\(unsaved)",
                disposition: .resumable,
                state:
                    "the key is written; \(t.instanceID) is stopped with its root volume attached at \(t.rootDeviceName)\(standbyNote(record))",
                next:
                    "fix what the reason says, then `keyrescue resume \(record.runID)`: it starts the instance and cleans up"
            )
        } catch EngineFailure.standby(let why, let next) where record.step >= .targetRestored {
            // The key is written and the target runs as it did: only its return to service is left.
            let t = record.plan.target
            record.status = .needsAttention
            record.lastError = why
            let unsaved = saveReporting(&record, "\(t.instanceID) not back in service: \(why)")
            throw RescueFailure(
                runID: record.runID, message: why + unsaved, disposition: .resumable,
                state:
                    "the key is written; \(t.instanceID) runs, out of service in Auto Scaling group \(t.autoScalingGroupName ?? "?")",
                next: "\(next); `keyrescue resume \(record.runID)` then returns it to service and cleans up")
        } catch {
            record.lastError = "\(error)"
            let unsaved = saveReporting(&record, "failed during \(record.step.next?.rawValue ?? "?"): \(error)")
            try await recover(from: error, unsaved: unsaved, &record)
        }
    }

    private func recover(from error: any Error, unsaved: String, _ record: inout RunRecord) async throws -> Never {
        let reason = "\(error)"
        events(.warning("\(reason) — rolling back"))
        do {
            try await rollBack(&record)
        } catch let stop as EngineInterrupted {
            throw stop.cause
        } catch {
            throw await stopped(&record, reason: "\(reason)\(unsaved); the rollback stopped too", error)
        }
        let next: String =
            switch error {
            case EngineFailure.agent(let failure): AgentAdvice.next(for: failure)
            case EngineFailure.standby(_, let next): next
            case let refused as RescueHostTypes.NoneLaunched: refused.next
            default: "fix the cause and run keyrescue reset again"
            }
        let snapshot = "snapshot \(record.snapshotID ?? "none") kept"
        if record.targetUntouched {
            // Ready before the stop: the rescue host failed before the target was touched.
            throw RescueFailure(
                runID: record.runID, message: reason + unsaved, disposition: .nothingChanged,
                state:
                    "\(record.plan.target.instanceID) was never stopped; the rescue host, its security group and objects are removed; \(snapshot)",
                next: next)
        }
        throw RescueFailure(
            runID: record.runID, message: reason + unsaved, disposition: .rolledBack,
            state: "the instance is as it was; \(snapshot)", next: next)
    }

    /// A rollback that could not finish: the run needs a person; the journal says where things are.
    private func stopped(_ record: inout RunRecord, reason: String, _ error: any Error) async -> RescueFailure {
        record.status = .needsAttention
        let unsaved = saveReporting(&record, "rollback stopped: \(error)")
        return RescueFailure(
            runID: record.runID, message: "\(reason): \(error)\(unsaved)", disposition: .resumable,
            state: "the root volume is \(record.rootVolumeWhere)\(standbyNote(record))",
            next: "fix the cause, then `keyrescue rollback \(record.runID)` (or `keyrescue resume \(record.runID)`)")
    }

    /// Puts the root back on the target at its root device, restores the run state, removes the
    /// rescue host, the group, the objects and the tags; keeps the snapshot. Decided from the
    /// cloud's real state, so it works from any point and after any crash.
    func rollBack(_ record: inout RunRecord) async throws {
        record.status = .rollingBack
        try save(&record, "rolling back")
        events(.stepStarted(step: "rollback", detail: "root volume back to \(record.plan.target.instanceID)"))
        try await run(&record)
    }

    // MARK: journal and tags

    func lock(_ runID: String) throws {
        do { try journal.lock(runID) } catch let error as JournalError {
            throw RescueFailure(
                runID: runID, message: "\(error)", disposition: .resumable, state: "this command changed nothing",
                next: "wait for it or run `keyrescue status \(runID)`")
        } catch {
            throw RescueFailure(
                runID: runID, message: "cannot lock the run in the journal at \(journal.directory.path): \(error)",
                disposition: .nothingChanged, state: "this command changed nothing",
                next: "make \(journal.directory.path) a writable directory (or set XDG_STATE_HOME), then run this again"
            )
        }
    }

    func save(_ record: inout RunRecord, _ line: String) throws {
        record.updatedAt = now
        record.history.append("\(ISO8601DateFormatter().string(from: record.updatedAt)) \(line)")
        try journal.save(record)
    }

    func saveOrFail(_ record: inout RunRecord, _ line: String) throws {
        do { try save(&record, line) } catch {
            throw RescueFailure(
                runID: record.runID, message: "cannot write the journal: \(error)", disposition: .nothingChanged,
                state: "this command changed nothing",
                next: "make \(journal.directory.path) writable, then run this again"
            )
        }
    }

    /// Saves during failure handling: a write that fails is reported in the failure's message
    /// (the tags on the target still say where things are), not swallowed.
    func saveReporting(_ record: inout RunRecord, _ line: String) -> String {
        do {
            try save(&record, line)
            return ""
        } catch {
            events(.warning("cannot write the journal: \(error)"))
            return " (and the journal could not be written: \(error); the tags on the target say where things are)"
        }
    }

    /// The tags of everything a run creates: the run's own, and the user's `--tag`s (an organisation's
    /// policy may require them on every resource, DryRun probes included).
    func runTags(_ record: RunRecord, name: String) -> [Tag] {
        [Tag(RunTags.run, record.runID), Tag("Name", name)] + record.plan.tags
    }

    func mirrorTags(_ record: RunRecord) async throws {
        try await cloud.createTags(record.plan.target.instanceID, RunTags.values(record).map { Tag($0.0, $0.1) })
    }

    func checkpoint(_ point: EngineCheckpoint) throws {
        do { try environment.checkpoint(point) } catch { throw EngineInterrupted(cause: error) }
    }

    func outcome(_ record: RunRecord) -> RescueOutcome {
        RescueOutcome(
            runID: record.runID, instanceID: record.plan.target.instanceID, user: record.report?.user,
            address: record.address, keyFingerprint: record.report?.keyFingerprint,
            hostKeys: record.report?.hostKeys.map(\.knownHostsKey) ?? [],
            hostKeyFingerprints: record.report?.hostKeys.map { "\($0.type) \($0.fingerprint)" } ?? [],
            snapshotID: record.snapshotID, downtimeSeconds: record.downtime,
            finalState: record.plan.target.originalState.rawValue,
            warnings: record.report?.warnings.map(\.message) ?? [])
    }
}

/// StartInstances kept answering with a capacity error.
struct NoCapacity: Error {
    var error: AWSError
    var attempts: Int
}
