import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// A crash (the driver stopped dead, then a new process from the journal) at every step
/// boundary, after every cloud change and in every wait; then `resume` finishes or `rollback`
/// restores. The fake cloud moves slowly (lag 3) so that every wait polls.
@Suite struct EngineCrashTests {
    static func harness(marketplace: Bool = false) throws -> EngineHarness {
        let h = try EngineHarness(lag: 3, marketplace: marketplace)
        h.cloud.with { $0.agentTicks = 6 }
        return h
    }

    /// The checkpoints of an uninterrupted rescue.
    static func checkpoints(marketplace: Bool = false) async throws -> [EngineCheckpoint] {
        let h = try harness(marketplace: marketplace)
        _ = try await h.engine().execute(h.plan)
        return h.checkpoints.withLock { $0 }
    }

    @Test func aRescueHasACheckpointAtEveryStepAndInEveryWait() async throws {
        let points = try await Self.checkpoints()
        for step in RunStep.allCases.dropFirst() {
            #expect(points.contains(.stepDone(step)), "\(step)")
        }
        let waits = Set(points.compactMap { if case .waiting(let step, _) = $0 { step } else { nil } })
        #expect(
            waits == [
                "targetStopped", "rootDetached", "attachedToRescue", "reportReceived", "detachedFromRescue",
                "rootReturned", "targetRestored",
            ])
    }

    @Test func resumeFinishesAfterACrashAnywhere() async throws {
        let count = try await Self.checkpoints().count
        for n in 1...count {
            let h = try Self.harness()
            #expect(try await h.crashed(at: n), "crash \(n)")
            let record = try h.record()
            _ = try await h.engine().resume(record)
            #expect(try h.record().status == .done, "crash \(n)")
            h.expectRestored("crash at checkpoint \(n) of \(count)")
            #expect(h.cloud.calls("RunInstances") == 1, "crash \(n): one rescue host")
        }
    }

    @Test func rollbackRestoresAfterACrashAnywhere() async throws {
        let count = try await Self.checkpoints().count
        for n in 1...count {
            let h = try Self.harness()
            #expect(try await h.crashed(at: n), "crash \(n)")
            let done = try await h.engine().rollback(try h.record())
            #expect(done.status == .rolledBack, "crash \(n)")
            h.expectRestored("crash at checkpoint \(n) of \(count)")
        }
    }

    @Test func aMarketplaceRescueResumesAfterACrashAnywhere() async throws {
        let count = try await Self.checkpoints(marketplace: true).count
        for n in 1...count {
            let h = try Self.harness(marketplace: true)
            #expect(try await h.crashed(at: n), "crash \(n)")
            _ = try await h.engine().resume(try h.record())
            h.expectRestored("marketplace, crash at checkpoint \(n) of \(count)")
        }
    }

    @Test func aRollbackCrashedAnywhereIsFinishedByAnotherRollback() async throws {
        // The rollback of a run stopped with the root on the rescue host, and its checkpoints.
        let clean = try Self.harness()
        #expect(try await clean.crashed { $0 == .stepDone(.attachedToRescue) })
        let before = clean.checkpoints.withLock { $0.count }
        _ = try await clean.engine().rollback(try clean.record())
        let count = clean.checkpoints.withLock { $0.count } - before
        #expect(count > 3)
        for n in 1...count {
            let h = try Self.harness()
            #expect(try await h.crashed { $0 == .stepDone(.attachedToRescue) })
            do {
                _ = try await h.engine { _, seen in seen == n }.rollback(try h.record())
                Issue.record("the rollback was not interrupted at \(n)")
            } catch is SimulatedCrash {}
            #expect(try h.record().status == .rollingBack)
            _ = try await h.engine().rollback(try h.record())
            h.expectRestored("rollback crashed at checkpoint \(n) of \(count)")
        }
    }

    @Test func aFailureAfterACrashedResumeStillRollsBack() async throws {
        let h = try Self.harness()
        h.cloud.with {
            $0.agentReport = .failure(runID: nil, agentVersion: "t", .init(.mountFailed, "cannot mount", hint: ""))
        }
        #expect(try await h.crashed { $0 == .stepDone(.attachedToRescue) })
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().resume(try h.record()) }
        #expect(failure.disposition == .rolledBack)
        h.expectRestored()
    }
}
