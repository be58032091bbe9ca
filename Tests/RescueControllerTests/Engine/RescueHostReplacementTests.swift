import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// The rescue host on resume: described, not launched again; replaced (with a new ClientToken)
/// when it is gone or its presigned URLs run out; never terminated with the root on it.
@Suite struct RescueHostReplacementTests {
    @Test func aHostThatIsGoneIsReplacedOnResume() async throws {
        let h = try EngineHarness()
        #expect(try await h.crashed { $0 == .stepDone(.attachedToRescue) })
        let old = try #require(try h.record().rescueInstanceID)
        try await h.cloud.terminateInstance(old)
        h.cloud.with { $0.objects = $0.objects.filter { !$0.key.hasSuffix("report.json") } }
        _ = try await h.engine().resume(try h.record())
        let record = try h.record()
        #expect(record.status == .done && record.rescueLaunches == 2 && record.retiredRescueInstanceIDs == [old])
        #expect(record.rescueInstanceID != old)
        let tokens = h.cloud.with { w in w.machines.values.compactMap { $0.launch?.token }.sorted() }
        #expect(tokens == [h.plan.runID, "\(h.plan.runID)-2"])
        h.expectRestored()
    }

    @Test func aHostWhoseURLsExpireIsReplacedAfterTheRootComesOff() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.agentTicks = 1000 }
        #expect(try await h.crashed { $0 == .stepDone(.attachedToRescue) })
        let old = try #require(try h.record().rescueInstanceID)
        h.clock.advance(6800)  // the report URL (two hours) expires within the 10-minute margin
        h.cloud.with {
            $0.agentTicks = 2
            $0.silent = [old]  // the first host never reports
        }
        _ = try await h.engine().resume(try h.record())
        let calls = h.cloud.calls
        let detach = try #require(calls.firstIndex(of: "DetachVolume"))
        let terminate = try #require(calls.firstIndex(of: "TerminateInstances"))
        #expect(detach < terminate, "the root comes off before the host is terminated")
        let history = try h.record().history.joined(separator: "\n")
        #expect(try h.record().retiredRescueInstanceIDs == [old], "\(history)")
        h.expectRestored()
    }

    @Test func aLaunchWhoseAnswerWasLostIsFoundByItsToken() async throws {
        let h = try EngineHarness()
        #expect(try await h.crashed { $0 == .stepDone(.targetStopped) })
        var record = try h.record()
        record.rescueInstanceID = nil  // as if the crash came between RunInstances and the journal
        try h.journal.save(record)
        _ = try await h.engine().resume(record)
        #expect(h.cloud.calls("RunInstances") == 1, "no second launch, so no IdempotentParameterMismatch")
        h.expectRestored()
    }

    @Test func aHostEC2DoesNotKnowYetIsNotReplaced() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.unseenAfterLaunch = 3 }
        _ = try await h.engine().execute(h.plan)
        #expect(h.cloud.calls("RunInstances") == 1)
        #expect(try h.record().rescueLaunches == nil)
    }

    @Test func aGroupEC2DoesNotKnowYetIsRetriedForABoundedTime() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.groupUnseen = 3 }
        _ = try await h.engine().execute(h.plan)
        #expect(h.cloud.calls("RunInstances") == 4)
        h.expectRestored()

        let stuck = try EngineHarness()
        stuck.cloud.with { $0.groupUnseen = 1000 }
        let failure = try await #require(throws: RescueFailure.self) { try await stuck.engine().execute(stuck.plan) }
        // The launch comes before the stop: the target was never touched.
        #expect(failure.disposition == .nothingChanged && failure.message.contains("InvalidGroup.NotFound"))
        #expect(stuck.cloud.calls("StopInstances") == 0)
        #expect(stuck.cloud.calls("RunInstances") < 30, "bounded by EngineTiming.eventualConsistency")
        stuck.expectRestored()
    }

    @Test func aHostWhoseAgentFailedOnTheDiskIsNotReplaced() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.agentTicks = 1000 }
        #expect(try await h.crashed { $0 == .stepDone(.attachedToRescue) })
        let old = try #require(try h.record().rescueInstanceID)
        let failed = RescueReport.failure(
            runID: nil, agentVersion: "t", .init(.corruptFilesystem, "bad superblock", hint: ""))
        let line = try ReportConsoleLine.render(failed)
        h.cloud.with {
            $0.console = line
            $0.machines[old]?.state = .terminated
        }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().resume(try h.record()) }
        #expect(failure.disposition == .rolledBack && failure.message.contains("bad superblock"))
        #expect(h.cloud.calls("RunInstances") == 1)
    }

    @Test func noMoreHostsThanTheLimit() async throws {
        var timing = EngineTiming()
        timing.maxRescueLaunches = 1
        let h = try EngineHarness(timing: timing)
        #expect(try await h.crashed { $0 == .stepDone(.rootDetached) })
        try await h.cloud.terminateInstance(try #require(try h.record().rescueInstanceID))
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().resume(try h.record()) }
        #expect(failure.disposition == .rolledBack && failure.message.contains("1 were launched already"))
        h.expectRestored()
    }

    @Test func aRunRecoveredFromTagsRollsBack() async throws {
        let h = try EngineHarness()
        #expect(try await h.crashed { $0 == .stepDone(.attachedToRescue) })
        var record = try h.record()
        record.plan.keys.publicKeys = []
        record.plan.rescueHost = .init(imageID: "", instanceType: "", subnetID: nil)
        let done = try await h.engine().rollback(record)
        #expect(done.status == .rolledBack)
        h.cloud.with { w in
            #expect(w.disks[FakeCloud.root]?.attachedTo == FakeCloud.target)
            #expect(w.machines[FakeCloud.target]?.state == .running)
        }
    }
}
