import AWSKit
import Foundation

/// A door rescue in the journal and in tags, as the swap's are: a record (route, started,
/// finished, status, the instance, downtime 0) that `keyrescue runs` and `status` show, and the
/// run's tag on the instance while a door runs, removed when it ends (as the swap's cleanup does).
/// A door that falls through leaves its lines in the record; the swap that may follow keeps them
/// (RescueEngine.execute).
public struct DoorRunJournal: Sendable {
    public var journal: JournalStore
    /// CreateTags and DeleteTags on the target.
    public var tag: @Sendable (_ instanceID: String, _ tags: [Tag]) async throws -> Void
    public var untag: @Sendable (_ instanceID: String, _ keys: [String]) async throws -> Void
    public var now: @Sendable () -> Date = { Date() }

    public init(
        journal: JournalStore, tag: @escaping @Sendable (String, [Tag]) async throws -> Void,
        untag: @escaping @Sendable (String, [String]) async throws -> Void
    ) {
        self.journal = journal
        self.tag = tag
        self.untag = untag
    }

    static let tagKeys = [RunTags.run, RunTags.route]

    /// Journals `door` (one route's attempt) before and after it runs.
    public func attempt(
        _ route: RescueRoute, _ plan: RescuePlan, _ door: () async throws -> DoorAttempt
    ) async throws -> DoorAttempt {
        let instance = plan.target.instanceID
        do { try journal.lock(plan.runID) } catch {
            throw ControllerError.refused(["\(error)"])
        }
        defer { journal.unlock(plan.runID) }
        var record = (try? journal.load(plan.runID)) ?? RunRecord(plan: plan, now: now())
        record.route = route
        record.status = .inProgress
        record.finishedAt = nil
        do { try save(&record, "route \(route.rawValue): started on \(instance) (no stop, no snapshot)") } catch {
            throw ControllerError.refused([
                "cannot write the journal at \(journal.directory.path): \(error); make it writable (or set XDG_STATE_HOME), then run keyrescue reset again"
            ])
        }
        var tagged = true
        do {
            try await tag(instance, [Tag(RunTags.run, record.runID), Tag(RunTags.route, route.rawValue)])
        } catch {
            // The tags only show the run to other workstations: the door goes ahead without them.
            tagged = false
            record.history.append(stamp("could not tag \(instance): \(error)"))
        }
        let ended: DoorAttempt
        do { ended = try await door() } catch {
            record.status = .needsAttention
            record.lastError = "\(error)"
            try? await removeTags(instance, tagged, &record)
            finish(&record, "route \(route.rawValue) stopped: \(error)")
            throw error
        }
        try? await removeTags(instance, tagged, &record)
        switch ended {
        case .done(let outcome):
            record.status = .done
            finish(
                &record,
                "route \(route.rawValue): key \(outcome.keyFingerprint ?? "?") written for \(outcome.user ?? "?"); downtime 0 s"
            )
        case .fellThrough(let why):
            // Nothing changed: as a swap that ends before touching its target (rolled-back).
            record.status = .rolledBack
            record.lastError = why
            finish(&record, "route \(route.rawValue) fell through: \(why)")
        }
        return ended
    }

    /// `rollback` of a door run: its tags go; nothing else is put back, since a door changes only
    /// the keys file. A run that did not finish ends rolled-back; a done one stays done.
    public func rollBack(_ record: RunRecord) async throws -> String {
        var record = record
        guard let route = record.route else { return "run \(record.runID) is not a door rescue" }
        do { try journal.lock(record.runID) } catch { throw ControllerError.refused(["\(error)"]) }
        defer { journal.unlock(record.runID) }
        try await untag(record.plan.target.instanceID, Self.tagKeys)
        guard record.status != .done else {
            return
                "run \(record.runID) is done (route \(route.rawValue)): its tags are removed; a door rescue is not undone"
        }
        record.status = .rolledBack
        finish(&record, "rolled back: the tags removed; the door changed nothing else")
        return
            "run \(record.runID) rolled back: its tags are removed; the door (route \(route.rawValue)) changed nothing else"
    }

    private func removeTags(_ instance: String, _ tagged: Bool, _ record: inout RunRecord) async throws {
        guard tagged else { return }
        do { try await untag(instance, Self.tagKeys) } catch {
            record.history.append(stamp("could not remove the tags \(Self.tagKeys) from \(instance): \(error)"))
            throw error
        }
    }

    /// The end of a door: a journal that cannot be written then loses only this record's last
    /// lines (the key is written, or nothing changed); it is not a reason to fail the rescue.
    private func finish(_ record: inout RunRecord, _ line: String) {
        record.finishedAt = now()
        try? save(&record, line)
    }

    private func save(_ record: inout RunRecord, _ line: String) throws {
        record.updatedAt = now()
        record.history.append(stamp(line))
        try journal.save(record)
    }

    private func stamp(_ line: String) -> String { "\(ISO8601DateFormatter().string(from: now())) \(line)" }
}

extension DoorRunJournal {
    /// `resume` of a door rescue: a done one is only reported; one that did not finish is not
    /// resumed (a door changes nothing but the keys file, and a swap from its record would stop
    /// the instance unasked). nil for a swap's record.
    public static func resumeOutcome(_ record: RunRecord) throws -> String? {
        guard let route = record.route else { return nil }
        guard record.status == .done else {
            throw ControllerError.runNeedsRollback(
                record.runID,
                why:
                    "it was a door rescue (route \(route.rawValue)) that did not finish, and a door is not resumed: it changes nothing but the keys file"
            )
        }
        return "run \(record.runID) is done: route \(route.rawValue), downtime 0 s; nothing to resume"
    }
}

extension RunTags {
    /// On the target while a door route runs (DoorRunJournal), beside `run`; removed when it ends.
    public static let route = "keyrescue:route"
}

extension RunRecord {
    /// The swap after doors that fell through: its record starts where theirs did and keeps their lines.
    mutating func carryDoorLines(from doors: RunRecord?) {
        guard let doors, doors.route != nil, doors.runID == runID else { return }
        createdAt = doors.createdAt
        history = doors.history
    }
}
