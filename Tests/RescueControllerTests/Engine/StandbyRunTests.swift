import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// `--standby` driven against the fake cloud, whose group replaces a member it finds stopped while
/// InService: the rescue leaves the group's service before the stop and returns after, crashes at
/// every checkpoint are resumed or rolled back, and a refused EnterStandby changes nothing.
@Suite struct StandbyRunTests {
    static func harness(lag: Int = 2, group: FakeGroup = FakeGroup()) throws -> (EngineHarness, RescuePlan) {
        let h = try EngineHarness(lag: lag)
        h.cloud.with { $0.agentTicks = 6 }
        h.cloud.joinGroup(group)
        var plan = h.plan
        plan.standby = true
        plan.target.autoScalingGroupName = group.name
        return (h, plan)
    }

    /// The member is back InService, the desired capacity as before, and it was never replaced.
    static func expectBackInService(_ h: EngineHarness, _ comment: Comment? = nil) {
        let group = h.cloud.group
        #expect(group?.lifecycle == "InService", comment)
        #expect(group?.desired == 2, comment)
        #expect(group?.replaced == false, "stopped while InService: the group would replace it; \(comment ?? "")")
    }

    @Test func aMemberLeavesServiceAfterTheHostIsReadyAndBeforeTheStopAndReturnsAfterTheStart() async throws {
        let (h, plan) = try Self.harness()
        let outcome = try await h.engine().execute(plan)
        #expect(outcome.user == "ec2-user")
        h.expectRestored()
        Self.expectBackInService(h)
        let calls = h.cloud.calls
        let index = { (call: String) in calls.firstIndex(of: call) ?? -1 }
        #expect(index("RunInstances") < index("EnterStandby"))
        #expect(index("EnterStandby") < index("StopInstances"))
        #expect(calls.lastIndex(of: "StartInstances") ?? -1 < index("ExitStandby"))
        #expect(index("ExitStandby") < index("DeleteSecurityGroup"))
        #expect(h.cloud.calls("EnterStandby") == 1 && h.cloud.calls("ExitStandby") == 1)
        let record = try h.record()
        #expect(record.enterStandbyAcceptedAt != nil && record.exitStandbyAcceptedAt != nil)
        #expect(
            record.history.contains {
                $0.hasSuffix("EnterStandby of \(FakeCloud.target) in Auto Scaling group web requested")
            })
        #expect(record.history.contains { $0.hasSuffix("✓ ExitStandby (desired capacity incremented)") })
    }

    /// The fake group's health rule is real: without --standby the same rescue gets the member replaced.
    @Test func withoutStandbyTheGroupWouldReplaceTheMember() async throws {
        let (h, _) = try Self.harness()
        _ = try await h.engine().execute(h.plan)
        #expect(h.cloud.group?.replaced == true)
        #expect(h.cloud.calls("EnterStandby") == 0)
    }

    @Test(arguments: [
        (FakeGroup(enterError: "AccessDenied"), "autoscaling:EnterStandby"),
        (FakeGroup(desired: 1, minSize: 1), "minimum size"),
    ])
    func aRefusedEnterStandbyLeavesTheTargetUntouched(group: FakeGroup, advice: String) async throws {
        let (h, plan) = try Self.harness(group: group)
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(plan) }
        #expect(failure.disposition == .nothingChanged)
        #expect(ExitStatus.of(failure, phase: .runStarted) == .refused)
        #expect(failure.message.contains("refused EnterStandby") && failure.message.contains("was not stopped"))
        #expect(failure.state.contains("was never stopped"))
        #expect(failure.next.contains(advice), "\(failure.next)")
        #expect(h.cloud.calls("StopInstances") == 0 && h.cloud.calls("ExitStandby") == 0)
        #expect(h.cloud.group?.lifecycle == "InService" && h.cloud.group?.desired == group.desired)
        #expect(try h.record().enterStandbyRequestedAt == nil, "a refusal is not a request")
        h.expectRestored()
    }

    @Test func aRefusedExitStandbyLeavesTheRunResumableAndResumeFinishesIt() async throws {
        var group = FakeGroup()
        group.exitError = ("ValidationError", 1)
        let (h, plan) = try Self.harness(group: group)
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(plan) }
        #expect(failure.disposition == .resumable)
        #expect(ExitStatus.of(failure, phase: .runStarted) == .resumable)
        #expect(failure.state.contains("the key is written") && failure.state.contains("out of service"))
        #expect(failure.next.contains("maximum size") && failure.next.contains("keyrescue resume kr-test"))
        #expect(h.cloud.group?.lifecycle == "Standby" && h.cloud.group?.replaced == false)
        _ = try await h.engine().resume(try h.record())
        #expect(try h.record().status == .done)
        h.expectRestored()
        Self.expectBackInService(h)
    }

    /// No capacity for the last start: the member stays in Standby (the group leaves it alone), said
    /// in the failure, until `resume` starts it and returns it to service.
    @Test func aTargetLeftStoppedForCapacityStaysInStandbyUntilResume() async throws {
        let (h, plan) = try Self.harness()
        let attempts = h.timing.capacityRetryDelays.count + 1
        h.cloud.with { $0.capacityFailures = attempts }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(plan) }
        #expect(failure.disposition == .resumable)
        #expect(failure.state.contains("stays in Standby in Auto Scaling group web"), "\(failure.state)")
        #expect(h.cloud.group?.lifecycle == "Standby" && h.cloud.group?.replaced == false)
        #expect(h.cloud.calls("ExitStandby") == 0)
        _ = try await h.engine().resume(try h.record())
        h.expectRestored()
        Self.expectBackInService(h)
    }

    /// After a crash right after EnterStandby, the group still reads InService past the consistency
    /// bound: the request is sent again, refused (the member is in Standby already), and the earlier
    /// request stays in the journal, so the rollback finds the member in Standby and returns it.
    @Test func aResentEnterStandbyThatIsRefusedKeepsTheEarlierRequestAndIsUndone() async throws {
        let (h, plan) = try Self.harness()
        let crashed = try await Self.crashed(h, plan) { point, _ in point == .actionDone(.enterStandby) }
        #expect(crashed)
        h.clock.advance(120)
        h.cloud.with { $0.autoScaling?.staleReads = 3 }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().resume(try h.record()) }
        #expect(failure.disposition == .nothingChanged)
        #expect(failure.message.contains("refused EnterStandby"))
        #expect(h.cloud.calls("EnterStandby") == 2 && h.cloud.calls("ExitStandby") == 1)
        #expect(h.cloud.calls("StopInstances") == 0)
        h.expectRestored()
        Self.expectBackInService(h)
    }

    static func checkpoints() async throws -> [EngineCheckpoint] {
        let (h, plan) = try harness(lag: 3)
        _ = try await h.engine().execute(plan)
        return h.checkpoints.withLock { $0 }
    }

    /// A fresh run that crashes where `crash` says (the checkpoint and its number).
    static func crashed(
        _ h: EngineHarness, _ plan: RescuePlan, when crash: @escaping @Sendable (EngineCheckpoint, Int) -> Bool
    ) async throws -> Bool {
        do {
            _ = try await h.engine(crash: crash).execute(plan)
            return false
        } catch is SimulatedCrash {
            return true
        }
    }

    @Test func theStandbyCallsHaveTheirCheckpointsAndWaits() async throws {
        let points = try await Self.checkpoints()
        #expect(points.contains(.actionDone(.enterStandby)) && points.contains(.actionDone(.exitStandby)))
        #expect(points.contains(.waiting(step: "targetStopped", .standbyEntered)))
        #expect(points.contains(.waiting(step: "cleanedUp", .backInService)))
    }

    @Test func resumeFinishesAfterACrashAnywhereWithOneEnterAndOneExit() async throws {
        let count = try await Self.checkpoints().count
        for n in 1...count {
            let (h, plan) = try Self.harness(lag: 3)
            #expect(try await Self.crashed(h, plan) { _, seen in seen == n }, "crash \(n)")
            _ = try await h.engine().resume(try h.record())
            #expect(try h.record().status == .done, "crash \(n)")
            h.expectRestored("crash at checkpoint \(n) of \(count)")
            Self.expectBackInService(h, "crash at checkpoint \(n) of \(count)")
            #expect(h.cloud.calls("EnterStandby") == 1 && h.cloud.calls("ExitStandby") == 1, "crash \(n)")
        }
    }

    @Test func rollbackReturnsToServiceAfterACrashAnywhere() async throws {
        let count = try await Self.checkpoints().count
        for n in 1...count {
            let (h, plan) = try Self.harness(lag: 3)
            #expect(try await Self.crashed(h, plan) { _, seen in seen == n }, "crash \(n)")
            let done = try await h.engine().rollback(try h.record())
            #expect(done.status == .rolledBack, "crash \(n)")
            h.expectRestored("crash at checkpoint \(n) of \(count)")
            Self.expectBackInService(h, "crash at checkpoint \(n) of \(count)")
            let entered = h.cloud.calls("EnterStandby")
            #expect(entered <= 1 && h.cloud.calls("ExitStandby") == entered, "crash \(n): undone once, if done")
        }
    }
}
