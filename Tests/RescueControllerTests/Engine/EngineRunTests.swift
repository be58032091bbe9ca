import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// The driver against the fake cloud: whole rescues, failures, and what the user is told.
@Suite struct EngineRunTests {
    @Test func aRescueRunsEveryStepInOrderAndRestoresTheInstance() async throws {
        let h = try EngineHarness(lag: 2)
        let outcome = try await h.engine().execute(h.plan)
        #expect(outcome.user == "ec2-user" && outcome.finalState == "running" && outcome.address == "203.0.113.7")
        #expect(outcome.downtimeSeconds != nil)
        let record = try h.record()
        #expect(record.status == .done && record.step == .cleanedUp)
        h.expectRestored()
        let started = h.events.withLock { $0 }.compactMap { if case .stepStarted(let s, _) = $0 { s } else { nil } }
        #expect(started == RunStep.allCases.dropFirst().map(\.rawValue))
        #expect(h.cloud.calls("RunInstances") == 1 && h.cloud.calls("StopInstances") == 1)
    }

    @Test func everyWaitIsReportedInsideItsStep() async throws {
        let h = try EngineHarness(lag: 3)
        h.cloud.with { $0.agentTicks = 10 }
        _ = try await h.engine().execute(h.plan)
        var current = ""
        var waited: Set<String> = []
        for event in h.events.withLock({ $0 }) {
            switch event {
            case .stepStarted(let step, _): current = step
            case .waiting(let step, _, _):
                #expect(step == current)
                waited.insert(step)
            default: break
            }
        }
        #expect(
            waited.isSuperset(of: [
                "targetStopped", "rootDetached", "attachedToRescue", "reportReceived", "detachedFromRescue",
                "rootReturned", "targetRestored",
            ]))
    }

    @Test func aStoppedTargetIsLeftStopped() async throws {
        let h = try EngineHarness(originalState: .stopped)
        let outcome = try await h.engine().execute(h.plan)
        #expect(outcome.finalState == "stopped")
        h.expectRestored()
        #expect(h.cloud.calls("StopInstances") == 0 && h.cloud.calls("StartInstances") == 0)
    }

    @Test func aMarketplaceRootMovesWhileTheRescueHostIsStopped() async throws {
        let h = try EngineHarness(marketplace: true)
        _ = try await h.engine().execute(h.plan)
        h.expectRestored()
        // The target's stop, and the rescue host's stops for the attach and for the detach.
        #expect(h.cloud.calls("StopInstances") == 3)
        #expect(
            h.cloud.with { w in w.machines.values.compactMap { $0.launch?.userData }.first?.contains("PER_BOOT='1'") }
                == true)
    }

    @Test func tagsOnTheTargetFollowTheJournal() async throws {
        let h = try EngineHarness()
        #expect(try await h.crashed { $0 == .stepDone(.rootDetached) })
        let tags = h.cloud.with { $0.machines[FakeCloud.target]?.tags ?? [:] }
        #expect(tags[RunTags.step] == "rootDetached" && tags[RunTags.run] == h.plan.runID)
        #expect(tags[RunTags.rescueInstance] == (try h.record()).rescueInstanceID)
    }

    @Test func anAgentFailureRollsBackAndSaysWhatToDoNext() async throws {
        let h = try EngineHarness()
        h.cloud.with {
            $0.agentReport = .failure(
                runID: nil, agentVersion: "t", .init(.noLoginUser, "no login user found", hint: ""))
        }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(h.plan) }
        #expect(failure.disposition == .rolledBack)
        #expect(failure.message.contains("no login user found"))
        #expect(failure.next == AgentAdvice.next(for: .init(.noLoginUser, "", hint: "")) && !failure.next.isEmpty)
        #expect(try h.record().status == .rolledBack)
        h.expectRestored()
    }

    @Test func noReportInTimeRollsBackWithTheLastConsoleLine() async throws {
        let h = try EngineHarness()
        h.cloud.with {
            $0.agentReport = nil
            $0.console = "keyrescue[12]: waiting for vol-root\n"
        }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(h.plan) }
        #expect(failure.disposition == .rolledBack && failure.message.contains("keyrescue[12]: waiting for vol-root"))
        h.expectRestored()
    }

    @Test func theConsoleIsTheReportsFallback() async throws {
        let h = try EngineHarness()
        let line = try ReportConsoleLine.render(Fixture.okReport())
        h.cloud.with {
            $0.agentReport = nil
            $0.console = "boot\n\(line)\n"
        }
        let outcome = try await h.engine().execute(h.plan)
        #expect(outcome.user == "ec2-user")
        h.expectRestored()
    }

    @Test func aShortLivedCapacityShortageIsWaitedOut() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.capacityFailures = 2 }
        let before = h.clock.now()
        _ = try await h.engine().execute(h.plan)
        h.expectRestored()
        #expect(h.clock.now().timeIntervalSince(before) >= 15, "backed off 5 s, then 10 s")
    }

    @Test func aLastingCapacityShortageStopsResumableThenResumeFinishes() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.capacityFailures = 5 }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(h.plan) }
        #expect(failure.disposition == .resumable && failure.message.contains("InsufficientInstanceCapacity"))
        #expect(failure.next.contains("keyrescue resume \(h.plan.runID)"))
        let record = try h.record()
        #expect(record.status == .needsAttention && record.step == .rootReturned && record.report?.ok == true)
        h.cloud.with { w in
            #expect(w.machines[FakeCloud.target]?.state == .stopped)
            #expect(
                w.disks[FakeCloud.root]?.attachedTo == FakeCloud.target,
                "nothing rolled back: the root stays on the target")
        }
        _ = try await h.engine().resume(record)
        #expect(try h.record().status == .done)
        h.expectRestored()
    }

    @Test func resumingARolledBackRunChangesNothing() async throws {
        let h = try EngineHarness()
        var record = RunRecord(plan: h.plan, now: h.clock.now())
        record.status = .rolledBack
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().resume(record) }
        #expect(failure.disposition == .nothingChanged && !failure.next.isEmpty)
        #expect(h.cloud.calls.isEmpty)
    }

    @Test func aRunLockedByAnotherProcessIsResumableAndNamesThePid() async throws {
        let h = try EngineHarness()
        let other = JournalStore(directory: h.journal.directory)
        try other.lock(h.plan.runID)
        defer { other.unlock(h.plan.runID) }
        let record = RunRecord(plan: h.plan, now: h.clock.now())
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().resume(record) }
        #expect(failure.disposition == .resumable)
        #expect(failure.message.contains("another keyrescue is working on \(h.plan.runID) (pid \(getpid()))"))
        #expect(failure.next.contains("keyrescue status \(h.plan.runID)"))
    }

    @Test func deleteSnapshotDeletesItOnlyAfterASuccess() async throws {
        let h = try EngineHarness()
        var plan = h.plan
        plan.options.deleteSnapshot = true
        _ = try await h.engine().execute(plan)
        #expect(h.cloud.with { $0.snapshots.isEmpty })
    }

    @Test func aJournalThatCannotBeWrittenDuringAFailureIsReported() async throws {
        let h = try EngineHarness()
        let broken = JournalStore(directory: URL(fileURLWithPath: "/dev/null/keyrescue"))
        let engine = RescueEngine(cloud: h.cloud, journal: broken, environment: EngineEnvironment(clock: h.clock)) {
            _ in
        }
        var record = RunRecord(plan: h.plan, now: h.clock.now())
        let said = engine.saveReporting(&record, "failed")
        #expect(said.contains("the journal could not be written"))
    }

    @Test func aJournalThatCannotBeWrittenStopsARunBeforeAnyChange() async throws {
        let h = try EngineHarness()
        let broken = JournalStore(directory: URL(fileURLWithPath: "/dev/null/keyrescue"))
        let engine = RescueEngine(cloud: h.cloud, journal: broken, environment: EngineEnvironment(clock: h.clock)) {
            _ in
        }
        let failure = try await #require(throws: RescueFailure.self) { try await engine.execute(h.plan) }
        #expect(failure.disposition == .nothingChanged)
        #expect(h.cloud.calls.isEmpty)
    }
}

extension EngineHarness {
    /// Runs a fresh rescue that crashes at the first checkpoint `at` matches.
    func crashed(at: @escaping @Sendable (EngineCheckpoint) -> Bool) async throws -> Bool {
        do {
            _ = try await engine { point, _ in at(point) }.execute(plan)
            return false
        } catch is SimulatedCrash {
            return true
        }
    }
}
