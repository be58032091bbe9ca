import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// Issue 12 rule 5: a rescue host the journal names is taken for gone only when a describe shows
/// it terminated, or when EC2 keeps answering NotFound past the eventual-consistency window after
/// its launch (also on `resume`, from the launch time in the journal). Until then it is asked
/// again with backoff, and no second host is launched.
@Suite struct RescueHostNotFoundTests {
    /// A run that crashed right after RunInstances (its answer journaled), resumed while EC2 does
    /// not know the host yet.
    @Test func aHostUnknownRightAfterItsLaunchIsNotGoneOnResume() async throws {
        let h = try EngineHarness()
        #expect(try await h.crashed { $0 == .actionDone(.launchRescueHost) })
        let host = try #require(try h.record().rescueInstanceID)
        #expect(try h.record().rescueLaunchedAt != nil, "the launch time is journaled")
        h.cloud.with { $0.unseen[host] = 4 }
        _ = try await h.engine().resume(try h.record())
        #expect(h.cloud.calls("RunInstances") == 1, "no second launch")
        #expect(h.cloud.with { $0.unseen[host] } == 0, "the NotFounds were met and asked through")
        #expect(try h.record().status == .done && h.record().retiredRescueInstanceIDs == nil)
        h.expectRestored()
    }

    /// A run that crashed once the root came off the target (the host launched before), its
    /// journal as a version without the launch time would have left it when `journaledLaunch` is false.
    func crashedBeforeTheAttach(journaledLaunch: Bool = true) async throws -> (EngineHarness, RunRecord, String) {
        let h = try EngineHarness()
        #expect(try await h.crashed { $0 == .stepDone(.rootDetached) })
        var record = try h.record()
        if !journaledLaunch {
            record.rescueLaunchedAt = nil
            try h.journal.save(record)
        }
        return (h, record, try #require(record.rescueInstanceID))
    }

    @Test func aHostUnknownBeforeTheAttachIsWaitedForNotReplaced() async throws {
        let (h, record, host) = try await crashedBeforeTheAttach()
        h.cloud.with { $0.unseen[host] = 3 }
        _ = try await h.engine().resume(record)
        #expect(h.cloud.calls("RunInstances") == 1)
        #expect(try h.record().rescueLaunches == nil)
        h.expectRestored()
    }

    /// A journal without the launch time, resumed an hour later: the NotFound is still confirmed
    /// over the window, counted from the first one.
    @Test func withoutALaunchTimeTheWindowStartsAtTheFirstNotFound() async throws {
        let (h, record, host) = try await crashedBeforeTheAttach(journaledLaunch: false)
        h.clock.advance(3600)
        h.cloud.with { $0.unseen[host] = 5 }
        _ = try await h.engine().resume(record)
        #expect(h.cloud.calls("RunInstances") == 1)
        h.expectRestored()
    }

    /// NotFound past the window: gone, then replaced (with a new token), not before.
    @Test func aHostEC2KeepsNotKnowingIsReplacedOnlyAfterTheWindow() async throws {
        let (h, record, host) = try await crashedBeforeTheAttach(journaledLaunch: false)
        h.cloud.with { $0.unseen[host] = 1_000_000 }
        let resumed = h.clock.now()
        _ = try await h.engine().resume(record)
        let after = try h.record()
        #expect(after.status == .done && after.retiredRescueInstanceIDs == [host])
        let retired = try #require(after.history.first { $0.contains("→ retire") })
        let at = try #require(ISO8601DateFormatter().date(from: String(retired.prefix { $0 != " " })))
        #expect(at.timeIntervalSince(resumed) >= EngineTiming().eventualConsistency, "\(retired)")
        #expect(h.cloud.with { $0.launchRequests.map(\.token) } == [h.plan.runID, "\(h.plan.runID)-2"])
        h.expectRestored()
    }
}

extension RescueHostNotFoundTests {
    /// A run that ends while EC2 does not know its host yet: cleanup asks again rather than leave
    /// the host running.
    @Test func cleanupTerminatesAHostEC2DidNotKnowYet() async throws {
        var timing = EngineTiming()
        timing.readyTimeout = 20
        let h = try EngineHarness(timing: timing)
        h.cloud.with {
            $0.hostsNeverReady = true
            $0.unseenAfterLaunch = 12
        }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(h.plan) }
        #expect(failure.disposition == .nothingChanged)
        #expect(h.cloud.calls("TerminateInstances") == 1)
        h.expectRestored()
    }
}
