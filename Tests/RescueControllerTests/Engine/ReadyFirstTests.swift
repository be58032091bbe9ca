import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// Ready before the stop (issue 12, rule 1): the target is stopped only once the rescue host
/// fetched and checked the agent; a host that cannot get ready ends the run with the target
/// untouched, the host, its group and objects removed, and says why.
@Suite struct ReadyFirstTests {
    private func next(_ record: RunRecord, _ seen: CloudObservation) -> EngineAction {
        RescueDecision.next(record, seen)
    }

    @Test(arguments: [InstanceState.terminated, .shuttingDown, .stopped, .stopping])
    func aHostThatEndsBeforeItIsReadyFailsBeforeTheStop(host: InstanceState) {
        let record = Fixture.record(at: .agentUploaded)
        guard case .fail(.rescueHostNotReady(let why)) = next(record, Fixture.seen(target: .running, host: host))
        else {
            Issue.record("expected a not-ready failure for a host that is \(host)")
            return
        }
        #expect(why.contains(Fixture.host) && why.contains(host.rawValue))
        guard case .fail(.rescueHostNotReady) = next(record, Fixture.seen(target: .running, hostGone: true)) else {
            Issue.record("expected a not-ready failure for a host that is gone")
            return
        }
    }

    @Test func aBootstrapFailureBeforeTheStopIsTheAgentsAnswer() {
        var report = RescueReport(runID: "kr-test", ok: false, agentVersion: "bootstrap")
        report.error = .init(.agentDownloadFailed, "no route to S3", hint: "")
        let action = next(
            Fixture.record(at: .agentUploaded), Fixture.seen(target: .running, host: .running, report: report))
        #expect(action == .fail(.agent(.init(.agentDownloadFailed, "no route to S3", hint: ""))))
    }

    @Test func aStopAlreadyAskedForIsNotHeldBackByReadiness() {
        var record = Fixture.record(at: .agentUploaded)
        record.stoppedAt = Fixture.now
        #expect(RescueDecision.needs(record) == [.target])
        #expect(next(record, Fixture.seen(target: .running)) == .stopTarget)
        #expect(next(record, Fixture.seen(target: .stopping)) == .wait(.targetStopped))
    }

    @Test func aStoppedTargetDoesNotWaitForReadiness() {
        let record = Fixture.record(at: .agentUploaded, originalState: .stopped)
        #expect(RescueDecision.needs(record) == [.target])
        #expect(next(record, Fixture.seen(target: .stopped)) == .completeStep(.targetStopped))
    }

    @Test func theTargetIsStoppedAfterTheHostIsReady() async throws {
        let h = try EngineHarness(lag: 2)
        _ = try await h.engine().execute(h.plan)
        h.expectRestored()
        let calls = h.cloud.calls
        let launch = try #require(calls.firstIndex(of: "RunInstances"))
        let stop = try #require(calls.firstIndex(of: "StopInstances"))
        #expect(launch < stop)
        let history = try h.record().history
        let ready = try #require(history.firstIndex { $0.hasSuffix("✓ launch the rescue host") })
        let stopped = try #require(history.firstIndex { $0.contains("stop of \(FakeCloud.target) requested") })
        #expect(ready < stopped)
    }

    @Test func aHostThatNeverGetsReadyLeavesTheTargetUntouched() async throws {
        var timing = EngineTiming()
        timing.readyTimeout = 60
        let h = try EngineHarness(timing: timing)
        h.cloud.with { $0.hostsNeverReady = true }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(h.plan) }
        #expect(failure.disposition == .nothingChanged)
        #expect(failure.message.contains("could not get ready") && failure.state.contains("was never stopped"))
        #expect(ExitStatus.of(failure, phase: .runStarted) == .refused)
        #expect(h.cloud.calls("StopInstances") == 0)
        h.expectRestored()
    }

    @Test(arguments: ["InsufficientInstanceCapacity", "Unsupported", "InstanceLimitExceeded"])
    func aLaunchRefusedByEC2LeavesTheTargetUntouched(code: String) async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.launchError = code }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(h.plan) }
        #expect(failure.disposition == .nothingChanged)
        #expect(failure.message.contains(code))
        #expect(h.cloud.calls("StopInstances") == 0)
        h.expectRestored()
    }

    @Test func a403OnTheRunsObjectsCountsAsNotYet() async throws {
        let h = try EngineHarness(lag: 3)
        h.cloud.with {
            $0.agentTicks = 10
            $0.forbiddenMissingReads = 5
        }
        let outcome = try await h.engine().execute(h.plan)
        #expect(outcome.user == "ec2-user")
        #expect(h.cloud.with { $0.forbiddenMissingReads } == 0, "the 403s were met and waited through")
        h.expectRestored()
    }

    @Test func aLasting403EndsTheReadyWaitAtItsDeadlineWithTheTargetUntouched() async throws {
        var timing = EngineTiming()
        timing.readyTimeout = 60
        let h = try EngineHarness(timing: timing)
        h.cloud.with {
            $0.hostsNeverReady = true
            $0.forbiddenMissingReads = 100_000
        }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(h.plan) }
        #expect(failure.disposition == .nothingChanged && failure.message.contains("not ready after"))
        #expect(h.cloud.calls("StopInstances") == 0)
    }

    @Test func aStartThatFallsBackToStoppedIsReportedWithItsReasonAndResumable() async throws {
        let h = try EngineHarness()
        let reason = "Server.InsufficientInstanceCapacity: Insufficient capacity."
        h.cloud.with { $0.startFallsBack = reason }
        let failure = try await #require(throws: RescueFailure.self) { try await h.engine().execute(h.plan) }
        #expect(failure.disposition == .resumable && failure.message.contains(reason))
        #expect(ExitStatus.of(failure, phase: .runStarted) == .resumable)
        let record = try h.record()
        #expect(record.status == .needsAttention && record.step == .rootReturned)
        _ = try await h.engine().resume(record)
        #expect(try h.record().status == .done)
        h.expectRestored()
    }

    @Test func theAgentsVolumeWaitComesFromTheJob() async throws {
        let h = try EngineHarness()
        _ = try await h.engine().execute(h.plan)
        let userData = try #require(h.cloud.with { w in w.machines.values.compactMap { $0.launch?.userData }.first })
        let encoded = try #require(
            userData.split(separator: "\n").first { $0.hasPrefix("JOB_BASE64=") }?.dropFirst("JOB_BASE64='".count)
                .dropLast())
        let job = try WireFormat.decodeJob(Array(try #require(Data(base64Encoded: String(encoded)))))
        #expect(job.options.volumeWaitSeconds == EngineTiming().agentVolumeWait(marketplace: false))
        #expect(job.options.volumeWaitSeconds > 300)
        #expect(userData.contains("READY_URL='https://s3.fake/keyrescue-b/keyrescue/kr-test/ready"))
    }
}
