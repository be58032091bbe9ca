import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// A detach that hangs (issue 12, rule 6): a root stuck `busy`/`detaching` on the rescue host
/// past a bound frees itself by the host's termination (DeleteOnTermination checked false first),
/// and is force-detached only as the last resort, said so.
@Suite struct StuckDetachTests {
    private let timing = EngineTiming()

    private func record(askedAgo: Double?, freedAgo: Double? = nil) -> RunRecord {
        var record = Fixture.record(at: .reportReceived)
        record.rootDetachRequestedAt = askedAgo.map { Fixture.now.addingTimeInterval(-$0) }
        record.rootFreedByTerminationAt = freedAgo.map { Fixture.now.addingTimeInterval(-$0) }
        return record
    }

    private func next(_ record: RunRecord, _ state: AttachmentState = .busy, on holder: String = Fixture.host)
        -> EngineAction
    {
        RescueDecision.next(record, Fixture.seen(root: .attached(to: holder, state), host: .running), timing: timing)
    }

    @Test(arguments: [AttachmentState.busy, .detaching])
    func aStuckDetachIsWaitedForUpToTheBoundThenTheHostIsTerminated(state: AttachmentState) {
        #expect(next(record(askedAgo: timing.stuckDetachBound - 1), state) == .wait(.volumeDetached))
        #expect(next(record(askedAgo: timing.stuckDetachBound), state) == .terminateToFreeRoot(host: Fixture.host))
    }

    @Test func forceIsTheLastResortAfterTheTermination() {
        let bound = timing.stuckDetachBound
        #expect(next(record(askedAgo: bound + 10, freedAgo: 10)) == .wait(.volumeDetached))
        #expect(next(record(askedAgo: 2 * bound, freedAgo: bound)) == .forceDetachRoot(from: Fixture.host))
    }

    @Test func aDetachFromTheTargetIsNeverSolvedByTerminatingIt() {
        var stuck = record(askedAgo: 10 * timing.stuckDetachBound)
        stuck.step = .targetStopped
        #expect(next(stuck, on: Fixture.target) == .wait(.volumeDetached))
    }

    @Test func aRollbackFreesAStuckRootTheSameWay() {
        var stuck = record(askedAgo: timing.stuckDetachBound)
        stuck.status = .rollingBack
        #expect(next(stuck) == .terminateToFreeRoot(host: Fixture.host))
    }

    @Test func aMarketplaceRootLeavesOnlyAStoppedHost() {
        let record = Fixture.record(at: .reportReceived, marketplace: true)
        let onHost = Fixture.onHost
        #expect(RescueDecision.next(record, Fixture.seen(root: onHost, host: .running)) == .stopRescueHost)
        #expect(RescueDecision.next(record, Fixture.seen(root: onHost, host: .stopping)) == .wait(.rescueHostStopped))
        #expect(
            RescueDecision.next(record, Fixture.seen(root: onHost, host: .stopped)) == .detachRoot(from: Fixture.host))
        var rollingBack = record
        rollingBack.status = .rollingBack
        #expect(
            RescueDecision.next(rollingBack, Fixture.seen(target: .stopped, root: onHost))
                == .terminateToFreeRoot(host: Fixture.host))
    }

    @Test func aBusyDetachIsRecoveredByTerminatingTheHost() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.busyDetach = true }
        _ = try await h.engine().execute(h.plan)
        h.expectRestored()
        #expect(h.cloud.calls("DetachVolume(Force)") == 0)
        let warnings = h.events.withLock { $0 }.compactMap { if case .warning(let w) = $0 { w } else { nil } }
        #expect(warnings.contains { $0.contains("terminating the host to free it") })
    }

    @Test func aRootTheTerminationDoesNotFreeIsForceDetachedAndSaidSo() async throws {
        let h = try EngineHarness()
        h.cloud.with {
            $0.busyDetach = true
            $0.busySurvivesTermination = true
        }
        _ = try await h.engine().execute(h.plan)
        h.expectRestored()
        #expect(h.cloud.calls("DetachVolume(Force)") == 1)
        let warnings = h.events.withLock { $0 }.compactMap { if case .warning(let w) = $0 { w } else { nil } }
        #expect(warnings.contains { $0.contains("force-detaching") && $0.contains("last resort") })
    }
}
