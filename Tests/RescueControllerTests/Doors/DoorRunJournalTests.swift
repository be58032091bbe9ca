@testable import AWSKit
import Foundation
import Testing

@testable import RescueController

/// A door rescue in the journal and the tags (DoorRunJournal): what `runs` and `status` show, the
/// run's tag on the instance only while the door runs, and journals from before the doors.
@Suite struct DoorRunJournalTests {
    typealias Log = ResetFlowTests.Log
    struct Refused: Error {}

    static func store() -> JournalStore {
        JournalStore(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent("kr-doors-\(UUID().uuidString)"))
    }

    static func doorJournal(_ store: JournalStore, _ log: Log, tagFails: Bool = false) -> DoorRunJournal {
        var journal = DoorRunJournal(
            journal: store,
            tag: { instance, tags in
                log.add("tag \(instance) " + tags.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
                if tagFails { throw Refused() }
            },
            untag: { instance, keys in log.add("untag \(instance) " + keys.joined(separator: ",")) })
        journal.now = { Date(timeIntervalSince1970: 1_800_000_000) }
        return journal
    }

    @Test func aDoorRescueIsJournaledAndTaggedOnlyWhileItRuns() async throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let log = Log()
        let plan = JournalTests.plan()
        let ended = try await Self.doorJournal(store, log).attempt(.ssm, plan) {
            log.add("door")
            let during = try store.load(plan.runID)
            #expect(during?.status == .inProgress)
            return .done(DoorFlowTests.outcome(plan, route: .ssm))
        }
        #expect(ended == .done(DoorFlowTests.outcome(plan, route: .ssm)))
        #expect(
            log.all == [
                "tag i-1 keyrescue:run=kr-test,keyrescue:route=ssm", "door", "untag i-1 keyrescue:run,keyrescue:route",
            ])
        let record = try #require(try store.load(plan.runID))
        #expect(record.route == .ssm && record.status == .done && record.downtime == 0)
        #expect(record.finishedAt != nil && record.snapshotID == nil)
        #expect(record.history.last?.hasSuffix("route ssm: key SHA256:x written for ec2-user; downtime 0 s") == true)
        #expect(
            store.list().map(\.listLine) == [
                "kr-test  i-1  done  route ssm  downtime 0 s  started 2027-01-15T08:00:00Z"
            ])
        #expect(record.statusLines[0] == "run kr-test: done, route ssm")
        #expect(record.statusLines.contains("  instance:    i-1 (never stopped: downtime 0 s)"))
    }

    @Test func aDoorThatFallsThroughLeavesARecordThatChangedNothing() async throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let log = Log()
        let plan = JournalTests.plan()
        let journal = Self.doorJournal(store, log)
        _ = try await journal.attempt(.ssm, plan) { .fellThrough("the SSM command did not finish; it was cancelled") }
        _ = try await journal.attempt(.instanceConnect, plan) { .fellThrough("sudo: a password is required") }
        let record = try #require(try store.load(plan.runID))
        #expect(record.route == .instanceConnect && record.status == .rolledBack)
        #expect(record.lastError == "sudo: a password is required")
        #expect(
            record.history.contains {
                $0.hasSuffix("route ssm fell through: the SSM command did not finish; it was cancelled")
            })
        #expect(log.all.filter { $0.hasPrefix("untag") }.count == 2)

        // The swap that follows starts its record where the doors' did and keeps their lines.
        var swap = RunRecord(plan: plan, now: Date())
        swap.carryDoorLines(from: record)
        #expect(swap.route == nil && swap.rescueRoute == .swap && swap.createdAt == record.createdAt)
        #expect(swap.history == record.history)
    }

    @Test func aDoorGoesAheadUntaggedWhenTaggingFails() async throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let log = Log()
        let plan = JournalTests.plan()
        _ = try await Self.doorJournal(store, log, tagFails: true).attempt(.instanceConnect, plan) {
            .done(DoorFlowTests.outcome(plan, route: .instanceConnect))
        }
        #expect(!log.all.contains { $0.hasPrefix("untag") })
        let record = try #require(try store.load(plan.runID))
        #expect(record.status == .done && record.history.contains { $0.contains("could not tag i-1") })
    }

    @Test func aDoorThatThrowsNeedsAttentionAndIsNotResumed() async throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let plan = JournalTests.plan()
        await #expect(throws: Refused.self) {
            _ = try await Self.doorJournal(store, Log()).attempt(.ssm, plan) { throw Refused() }
        }
        let record = try #require(try store.load(plan.runID))
        #expect(record.status == .needsAttention)
        #expect(throws: ControllerError.self) { _ = try DoorRunJournal.resumeOutcome(record) }
        var done = record
        done.status = .done
        #expect(
            try DoorRunJournal.resumeOutcome(done) == "run kr-test is done: route ssm, downtime 0 s; nothing to resume")
        #expect(try DoorRunJournal.resumeOutcome(RunRecord(plan: plan, now: Date())) == nil)
    }

    @Test func rollbackOfADoorRunRemovesItsTagsAndUndoesNothingElse() async throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let log = Log()
        let plan = JournalTests.plan()
        let journal = Self.doorJournal(store, log)
        await #expect(throws: Refused.self) {
            _ = try await journal.attempt(.ssm, plan) { throw Refused() }
        }
        let interrupted = try #require(try store.load(plan.runID))
        let said = try await journal.rollBack(interrupted)
        #expect(said == "run kr-test rolled back: its tags are removed; the door (route ssm) changed nothing else")
        #expect(try store.load(plan.runID)?.status == .rolledBack)
        #expect(log.all.last == "untag i-1 keyrescue:run,keyrescue:route")
        var done = interrupted
        done.status = .done
        #expect(try await journal.rollBack(done).contains("a door rescue is not undone"))
        #expect(try await journal.rollBack(RunRecord(plan: plan, now: Date())) == "run kr-test is not a door rescue")
    }

    @Test func anInterruptedDoorIsRebuiltFromItsTagsAndASwapIsNot() throws {
        var door = Instance(instanceId: "i-9", state: .running)
        door.rootDeviceName = "/dev/xvda"
        door.blockDeviceMappings = [.init(deviceName: "/dev/xvda", volumeId: "vol-9", status: "attached")]
        door.tags = [Tag(RunTags.run, "kr-20270115T080000-ab12"), Tag(RunTags.route, "instance-connect")]
        let record = try #require(
            DoorRunRecovery.record(fromTags: [door], runID: "kr-20270115T080000-ab12", region: "us-east-1"))
        #expect(record.route == .instanceConnect && record.status == .inProgress)
        #expect(record.plan.target.instanceID == "i-9" && record.plan.target.rootVolumeID == "vol-9")
        #expect(record.createdAt == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(record.statusLines[0] == "run kr-20270115T080000-ab12: in-progress, route instance-connect")
        var swap = door
        swap.tags = [Tag(RunTags.run, "kr-1"), Tag(RunTags.rootVolume, "vol-9"), Tag(RunTags.step, "planned")]
        #expect(DoorRunRecovery.record(fromTags: [swap], runID: "kr-1", region: "us-east-1") == nil)
    }

    @Test func journalsFromBeforeTheDoorsStillLoadAsSwaps() throws {
        let store = Self.store()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        var old = RunRecord(plan: JournalTests.plan(), now: Date(timeIntervalSince1970: 1_700_000_000))
        old.step = .cleanedUp
        old.status = .done
        try store.save(old)
        // A journal written before the doors has neither key: the same file, with them taken out.
        let path = store.path(of: old.runID)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        #expect(json["route"] == nil && json["finishedAt"] == nil)
        json.removeValue(forKey: "route")
        try JSONSerialization.data(withJSONObject: json).write(to: path)
        let loaded = try #require(try store.load(old.runID))
        #expect(loaded.route == nil && loaded.rescueRoute == .swap && loaded == old)
        #expect(loaded.listLine.contains("step cleanedUp"))
        #expect(loaded.statusLines[0] == "run kr-test: done, last step done: cleanedUp")
    }
}
