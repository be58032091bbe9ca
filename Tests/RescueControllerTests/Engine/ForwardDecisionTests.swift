import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// The forward path of the pure core: every step under every observed state that matters.
@Suite struct ForwardDecisionTests {
    func next(_ record: RunRecord, _ seen: CloudObservation = Fixture.seen()) -> EngineAction {
        RescueDecision.next(record, seen)
    }

    @Test func snapshotIsTakenOnceThenTheStepIsDone() {
        var record = Fixture.record(at: .planned)
        #expect(next(record) == .createSnapshot)
        record.snapshotID = "snap-1"
        #expect(next(record) == .completeStep(.snapshotted))
    }

    @Test func agentIsUploadedOnceThenTheStepIsDone() {
        var record = Fixture.record(at: .snapshotted)
        #expect(next(record) == .uploadAgent)
        record.objectKeys = ["k"]
        #expect(next(record) == .completeStep(.agentUploaded))
    }

    @Test(arguments: [InstanceState.running, .pending])
    func aRunningTargetIsStoppedOnlyOnceTheRescueHostIsReady(state: InstanceState) {
        #expect(next(Fixture.record(at: .agentUploaded, host: nil), Fixture.seen(target: state)) == .launchRescueHost)
        let launched = Fixture.record(at: .agentUploaded)
        #expect(next(launched, Fixture.seen(target: state, host: .running, ready: false)) == .wait(.rescueHostReady))
        #expect(next(launched, Fixture.seen(target: state, host: .running, ready: true)) == .stopTarget)
    }

    @Test func theRescueHostIsLaunchedWhileTheTargetStops() {
        #expect(
            next(Fixture.record(at: .agentUploaded, host: nil), Fixture.seen(target: .stopping)) == .launchRescueHost)
    }

    @Test func aHostTheJournalNamesIsNotLaunchedAgain() {
        let record = Fixture.record(at: .agentUploaded)
        #expect(next(record, Fixture.seen(target: .stopping)) == .wait(.targetStopped))
        #expect(next(record, Fixture.seen(target: .stopped)) == .completeStep(.targetStopped))
    }

    @Test(arguments: [InstanceState.terminated, .shuttingDown, .unknown("rebooting")])
    func aTargetThatCannotBeStoppedFails(state: InstanceState) {
        guard case .fail(.unexpected) = next(Fixture.record(at: .agentUploaded), Fixture.seen(target: state)) else {
            Issue.record("expected a failure for a target that is \(state)")
            return
        }
    }

    @Test func theRootLeavesTheStoppedTarget() {
        let record = Fixture.record(at: .targetStopped)
        #expect(next(record, Fixture.seen(root: Fixture.onTarget)) == .detachRoot(from: Fixture.target))
        #expect(next(record, Fixture.seen(root: .attached(to: Fixture.target, .detaching))) == .wait(.volumeDetached))
        #expect(next(record, Fixture.seen(root: .available)) == .completeStep(.rootDetached))
    }

    @Test func anAttachCutShortIsLetFinishBeforeTheDetach() {
        let record = Fixture.record(at: .targetStopped)
        #expect(next(record, Fixture.seen(root: .attached(to: Fixture.target, .attaching))) == .wait(.volumeAttached))
    }

    @Test func aRootOnAnUnexpectedInstanceStopsTheDetach() {
        guard case .fail = next(Fixture.record(at: .targetStopped), Fixture.seen(root: .attached(to: "i-other"))) else {
            Issue.record("expected a failure")
            return
        }
    }

    @Test func theRootGoesOnTheRunningRescueHost() {
        let record = Fixture.record(at: .rootDetached)
        #expect(next(record, Fixture.seen(root: .available, host: .pending)) == .wait(.rescueHostRunning))
        #expect(
            next(record, Fixture.seen(root: .available, host: .running))
                == .attachRoot(to: Fixture.host, device: "/dev/sdf"))
        #expect(
            next(record, Fixture.seen(root: .attached(to: Fixture.host, .attaching), host: .running))
                == .wait(.volumeAttached))
        #expect(next(record, Fixture.seen(root: Fixture.onHost, host: .running)) == .completeStep(.attachedToRescue))
    }

    @Test func aMarketplaceRootMovesOnlyWhileTheHostIsStopped() {
        let record = Fixture.record(at: .rootDetached, marketplace: true)
        #expect(next(record, Fixture.seen(root: .available, host: .running)) == .stopRescueHost)
        #expect(next(record, Fixture.seen(root: .available, host: .stopping)) == .wait(.rescueHostStopped))
        #expect(
            next(record, Fixture.seen(root: .available, host: .stopped))
                == .attachRoot(to: Fixture.host, device: "/dev/sdf"))
        #expect(next(record, Fixture.seen(root: Fixture.onHost, host: .stopped)) == .startRescueHost)
        #expect(next(record, Fixture.seen(root: Fixture.onHost, host: .running)) == .completeStep(.attachedToRescue))
    }

    @Test func aGoneHostIsRetiredAndANewOneLaunched() {
        var record = Fixture.record(at: .rootDetached)
        #expect(next(record, Fixture.seen(root: .available, hostGone: true)) == .retireRescueHost(why: "it is gone"))
        #expect(
            next(record, Fixture.seen(root: .available, host: .terminated))
                == .retireRescueHost(why: "it is terminated"))
        record.rescueInstanceID = nil
        #expect(next(record, Fixture.seen(root: .available)) == .launchRescueHost)
    }

    @Test func theRootComesOffAStaleHostBeforeItIsRetired() {
        var record = Fixture.record(at: .attachedToRescue)
        record.rescueHostValidUntil = Fixture.now.addingTimeInterval(60)
        #expect(next(record, Fixture.seen(root: Fixture.onHost, host: .running)) == .detachRoot(from: Fixture.host))
        guard case .retireRescueHost = next(record, Fixture.seen(root: .available, host: .running)) else {
            Issue.record("expected the host retired once the root is off it")
            return
        }
    }

    @Test func aStoppedHostIsStaleUnlessTheRootIsMarketplace() {
        let timing = EngineTiming()
        let seen = Fixture.seen(root: .available, host: .stopped)
        #expect(RescueDecision.staleness(Fixture.record(at: .rootDetached), seen, timing: timing) == "it is stopped")
        #expect(
            RescueDecision.staleness(Fixture.record(at: .rootDetached, marketplace: true), seen, timing: timing) == nil)
    }

    @Test func hostsAreNotReplacedForever() {
        var record = Fixture.record(at: .rootDetached)
        record.rescueLaunches = 3
        guard case .fail(.rescueHostUnusable) = next(record, Fixture.seen(root: .available, hostGone: true)) else {
            Issue.record("expected a failure after three hosts")
            return
        }
    }

    @Test func aRunRecoveredFromTagsCannotLaunchAHost() {
        let record = Fixture.record(at: .rootDetached, keys: [])
        guard case .fail(.rescueHostUnusable) = next(record, Fixture.seen(root: .available, hostGone: true)) else {
            Issue.record("expected a failure without the key")
            return
        }
    }

    @Test func theReportIsAcceptedThenJudged() {
        var record = Fixture.record(at: .attachedToRescue)
        let report = Fixture.okReport()
        #expect(next(record, Fixture.seen(report: report)) == .acceptReport(report))
        record.report = report
        #expect(next(record) == .completeStep(.reportReceived))
    }

    @Test func aFailedReportFailsTheRunWithTheAgentsReason() {
        var record = Fixture.record(at: .attachedToRescue)
        let failure = RescueReport.Failure(.noLoginUser, "no login user", hint: "")
        record.report = .failure(runID: "kr-test", agentVersion: "t", failure)
        #expect(next(record) == .fail(.agent(failure)))
    }

    @Test func withoutAReportTheEngineWaits() {
        let record = Fixture.record(at: .attachedToRescue)
        #expect(next(record, Fixture.seen()) == .wait(.report))
        #expect(next(record, Fixture.seen(root: Fixture.onHost, host: .running)) == .wait(.report))
    }

    @Test func theRootLeavesTheRescueHostThenTheHostGoes() {
        let record = Fixture.record(at: .reportReceived)
        #expect(next(record, Fixture.seen(root: Fixture.onHost, host: .running)) == .detachRoot(from: Fixture.host))
        #expect(
            next(record, Fixture.seen(root: .attached(to: Fixture.host, .detaching), host: .running))
                == .wait(.volumeDetached))
        #expect(next(record, Fixture.seen(root: .available, host: .running)) == .terminateRescueHost)
        #expect(next(record, Fixture.seen(root: .available, host: .shuttingDown)) == .completeStep(.detachedFromRescue))
        #expect(next(record, Fixture.seen(root: .available, hostGone: true)) == .completeStep(.detachedFromRescue))
    }

    @Test func theRootReturnsAtItsDeviceWithItsDeleteOnTermination() {
        let record = Fixture.record(at: .detachedFromRescue)
        #expect(
            next(record, Fixture.seen(target: .stopped, root: .available))
                == .attachRoot(to: Fixture.target, device: "/dev/xvda"))
        #expect(
            next(record, Fixture.seen(target: .stopped, root: .attached(to: Fixture.target, .attaching)))
                == .wait(.volumeAttached))
        #expect(
            next(record, Fixture.seen(target: .stopped, deleteOnTermination: false, root: Fixture.onTarget))
                == .restoreDeleteOnTermination)
        #expect(next(record, Fixture.seen(target: .stopped, root: Fixture.onTarget)) == .completeStep(.rootReturned))
    }

    @Test func theTargetIsStartedOnlyWhenItWasRunning() {
        let running = Fixture.record(at: .rootReturned)
        #expect(next(running, Fixture.seen(target: .stopped)) == .startTarget)
        #expect(next(running, Fixture.seen(target: .stopping)) == .wait(.targetStopped))
        #expect(next(running, Fixture.seen(target: .pending)) == .wait(.targetRunning))
        #expect(next(running, Fixture.seen(target: .running)) == .completeStep(.targetRestored))
        let stopped = Fixture.record(at: .rootReturned, originalState: .stopped)
        #expect(next(stopped, Fixture.seen(target: .stopped)) == .completeStep(.targetRestored))
    }

    @Test func cleanupEndsTheRun() {
        #expect(next(Fixture.record(at: .targetRestored)) == .cleanUp)
        #expect(next(Fixture.record(at: .cleanedUp)) == .finish(.done))
    }

    @Test(arguments: [RunStatus.done, .rolledBack, .needsAttention])
    func aFinishedRunDoesNothing(status: RunStatus) {
        #expect(next(Fixture.record(at: .rootDetached, status: status)) == .finish(status))
        #expect(RescueDecision.needs(Fixture.record(at: .rootDetached, status: status)).isEmpty)
    }

    @Test func eachStepReadsOnlyWhatItNeeds() {
        let expected: [RunStep: ObservationNeeds] = [
            .planned: [], .snapshotted: [], .agentUploaded: [.target, .rescueHost, .ready], .targetStopped: [.root],
            .rootDetached: [.root, .rescueHost], .attachedToRescue: [.report, .root, .rescueHost],
            .reportReceived: [.root, .rescueHost], .detachedFromRescue: [.root, .target], .rootReturned: [.target],
            .targetRestored: [], .cleanedUp: [],
        ]
        for step in RunStep.allCases {
            #expect(RescueDecision.needs(Fixture.record(at: step)) == expected[step], "after \(step)")
        }
        #expect(RescueDecision.needs(Fixture.record(at: .attachedToRescue), firstLook: false) == [.report])
    }
}
