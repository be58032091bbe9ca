import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// `--standby` (issue 12, rule 7), the pure core: an InService Auto Scaling member goes to Standby
/// once the rescue host is ready and before the stop, returns to service once it runs again, and a
/// rollback brings it back; a target this run never moved is left alone.
@Suite struct StandbyTests {
    static func record(at step: RunStep, status: RunStatus = .inProgress, requested: Date? = nil) -> RunRecord {
        var record = Fixture.record(at: step, status: status)
        record.plan.standby = true
        record.plan.target.autoScalingGroupName = "web"
        record.enterStandbyRequestedAt = requested
        return record
    }

    static func seen(
        target: InstanceState = .running, _ lifecycle: String?, root: CloudObservation.RootView = Fixture.onTarget,
        ready: Bool? = true
    ) -> CloudObservation {
        var seen = Fixture.seen(target: target, root: root, host: .running, ready: ready)
        seen.autoScaling = lifecycle.map { $0 == "-" ? .notMember : .lifecycle($0) }
        return seen
    }

    static let longAgo = Fixture.now.addingTimeInterval(-600)

    @Test func theTargetGoesToStandbyOnlyOnceTheHostIsReadyAndIsStoppedOnlyInStandby() {
        var record = Self.record(at: .agentUploaded)
        #expect(!RescueDecision.needs(record).contains(.autoScaling), "nothing to read before the request")
        #expect(RescueDecision.next(record, Self.seen(nil, ready: false)) == .wait(.rescueHostReady))
        #expect(RescueDecision.next(record, Self.seen(nil)) == .enterStandby)
        record.enterStandbyRequestedAt = Fixture.now
        record.enterStandbyAcceptedAt = Fixture.now
        #expect(RescueDecision.needs(record) == [.target, .rescueHost, .ready, .autoScaling])
        #expect(RescueDecision.next(record, Self.seen("EnteringStandby")) == .wait(.standbyEntered))
        #expect(RescueDecision.next(record, Self.seen("Standby")) == .stopTarget)
        record.stoppedAt = Fixture.now
        #expect(RescueDecision.needs(record) == [.target], "once the stop is asked for, Standby was seen")
    }

    @Test func withoutStandbyTheReadyHostLeadsStraightToTheStop() {
        let record = Fixture.record(at: .agentUploaded)
        #expect(RescueDecision.next(record, Self.seen(nil)) == .stopTarget)
        #expect(!RescueDecision.needs(record).contains(.autoScaling))
    }

    /// A request whose effect does not show: accepted, it is waited for; cut short by a crash, it
    /// is sent again only once the group would have shown it.
    @Test func anEnterStandbyThatDoesNotShowIsNotSentAgainBlindly() {
        var record = Self.record(at: .agentUploaded, requested: Fixture.now.addingTimeInterval(-10))
        #expect(RescueDecision.next(record, Self.seen("InService")) == .wait(.standbyEntered), "recent, unconfirmed")
        record.enterStandbyRequestedAt = Self.longAgo
        #expect(RescueDecision.next(record, Self.seen("InService")) == .enterStandby, "it never got through")
        record.enterStandbyAcceptedAt = Self.longAgo
        #expect(RescueDecision.next(record, Self.seen("InService")) == .wait(.standbyEntered), "accepted: only waited")
        #expect(RescueDecision.next(record, Self.seen("Standby")) == .stopTarget)
    }

    @Test(arguments: ["Terminating", "Detaching", "Pending:Wait", "-"])
    func aTargetThatCannotGoToStandbyIsNotStopped(lifecycle: String) {
        let record = Self.record(at: .agentUploaded, requested: Self.longAgo)
        guard case .fail(.standby(let why, let next)) = RescueDecision.next(record, Self.seen(lifecycle)) else {
            Issue.record("expected a standby failure for \(lifecycle)")
            return
        }
        #expect(why.contains(Fixture.target) && why.contains("web") && !next.isEmpty)
    }

    @Test func onceTheTargetRunsAgainItReturnsToServiceThenTheRunCleansUp() {
        var record = Self.record(at: .targetRestored, requested: Self.longAgo)
        #expect(RescueDecision.needs(record) == [.autoScaling])
        #expect(RescueDecision.next(record, Self.seen("Standby")) == .exitStandby)
        record.exitStandbyRequestedAt = Fixture.now
        record.exitStandbyAcceptedAt = Fixture.now
        #expect(RescueDecision.next(record, Self.seen("Pending")) == .wait(.backInService))
        #expect(RescueDecision.next(record, Self.seen("Standby")) == .wait(.backInService), "accepted: waited for")
        #expect(RescueDecision.next(record, Self.seen("InService")) == .cleanUp)
        record.exitStandbyRequestedAt = Self.longAgo
        record.exitStandbyAcceptedAt = nil
        #expect(RescueDecision.next(record, Self.seen("Standby")) == .exitStandby, "a request a crash cut short")
    }

    @Test func aTargetNeverMovedToStandbyIsLeftAlone() {
        let forward = Self.record(at: .targetRestored)
        #expect(RescueDecision.needs(forward) == [])
        #expect(RescueDecision.next(forward, Self.seen(nil)) == .cleanUp)
        let back = Self.record(at: .agentUploaded, status: .rollingBack)
        #expect(RescueDecision.needs(back) == [.root, .target])
        #expect(RescueDecision.next(back, Self.seen(nil)) == .cleanUp)
    }

    @Test func rollbackReturnsToServiceOnlyOnceTheTargetRunsInItsOriginalState() {
        let record = Self.record(at: .rootReturned, status: .rollingBack, requested: Self.longAgo)
        #expect(RescueDecision.needs(record) == [.root, .target, .autoScaling])
        #expect(RescueDecision.next(record, Self.seen(target: .stopped, "Standby")) == .startTarget)
        #expect(RescueDecision.next(record, Self.seen(target: .pending, "Standby")) == .wait(.targetRunning))
        #expect(RescueDecision.next(record, Self.seen("Standby")) == .exitStandby)
        #expect(RescueDecision.next(record, Self.seen("InService")) == .cleanUp)
        let onHost = Self.seen(target: .stopped, "Standby", root: Fixture.onHost)
        #expect(RescueDecision.next(record, onHost) == .detachRoot(from: Fixture.host), "the root first")
    }

    @Test func aRollbackRightAfterEnterStandbyLetsItLandThenUndoesIt() {
        let record = Self.record(
            at: .agentUploaded, status: .rollingBack, requested: Fixture.now.addingTimeInterval(-5))
        #expect(RescueDecision.next(record, Self.seen("InService")) == .wait(.standbyEntered))
        #expect(RescueDecision.next(record, Self.seen("EnteringStandby")) == .wait(.standbyEntered))
        #expect(RescueDecision.next(record, Self.seen("Standby")) == .exitStandby)
    }

    @Test func theRequestsAreJournaledAndOldJournalsStillLoad() throws {
        var record = Self.record(at: .targetStopped, requested: Fixture.now)
        #expect(RunTags.values(record).contains { $0 == (RunTags.standbyGroup, "web") })
        record.enterStandbyAcceptedAt = Fixture.now
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        var json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(record)) as? [String: Any])
        #expect(json["enterStandbyRequestedAt"] != nil && json["enterStandbyAcceptedAt"] != nil)
        for key in [
            "enterStandbyRequestedAt", "enterStandbyAcceptedAt", "exitStandbyRequestedAt", "exitStandbyAcceptedAt",
        ] {
            json[key] = nil
        }
        var plan = try #require(json["plan"] as? [String: Any])
        plan["standby"] = nil
        json["plan"] = plan
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let old = try decoder.decode(RunRecord.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old.enterStandbyRequestedAt == nil && old.exitStandbyRequestedAt == nil && !old.plan.standby)
        #expect(!RunTags.values(old).contains { $0.0 == RunTags.standbyGroup })
    }
}
