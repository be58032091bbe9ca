import Foundation
import RescueModel
import Testing

@testable import AWSKit
@testable import RescueController

/// The rollback path of the pure core: from wherever the root and the target are, back to the
/// target at its root device, in its original state, then cleanup.
@Suite struct RollbackDecisionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var seen: CloudObservation
        var expected: EngineAction
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "attach cut short: let it finish",
            seen: Fixture.seen(target: .stopped, root: .attached(to: Fixture.host, .attaching)),
            expected: .wait(.volumeAttached)),
        Case(
            name: "on the rescue host: detach", seen: Fixture.seen(target: .stopped, root: Fixture.onHost),
            expected: .detachRoot(from: Fixture.host)),
        Case(
            name: "detaching: wait",
            seen: Fixture.seen(target: .stopped, root: .attached(to: Fixture.host, .detaching)),
            expected: .wait(.volumeDetached)),
        Case(
            name: "busy: wait", seen: Fixture.seen(target: .stopped, root: .attached(to: Fixture.host, .busy)),
            expected: .wait(.volumeDetached)),
        Case(
            name: "available, target stopping: wait", seen: Fixture.seen(target: .stopping, root: .available),
            expected: .wait(.targetStopped)),
        Case(
            name: "available: attach back", seen: Fixture.seen(target: .stopped, root: .available),
            expected: .attachRoot(to: Fixture.target, device: "/dev/xvda")),
        Case(
            name: "back, DeleteOnTermination reset",
            seen: Fixture.seen(target: .stopped, deleteOnTermination: false, root: Fixture.onTarget),
            expected: .restoreDeleteOnTermination),
        Case(
            name: "back, stopped: start", seen: Fixture.seen(target: .stopped, root: Fixture.onTarget),
            expected: .startTarget),
        Case(
            name: "back, stopping: wait", seen: Fixture.seen(target: .stopping, root: Fixture.onTarget),
            expected: .wait(.targetStopped)),
        Case(
            name: "back, pending: wait", seen: Fixture.seen(target: .pending, root: Fixture.onTarget),
            expected: .wait(.targetRunning)),
        Case(
            name: "back, running: clean up", seen: Fixture.seen(target: .running, root: Fixture.onTarget),
            expected: .cleanUp),
    ]

    @Test(arguments: cases)
    func rollbackDecidesFromWhatIsObserved(c: Case) {
        #expect(RescueDecision.next(Fixture.record(at: .attachedToRescue, status: .rollingBack), c.seen) == c.expected)
    }

    @Test(arguments: RunStep.allCases)
    func theDecisionDoesNotDependOnTheJournaledStep(step: RunStep) {
        let record = Fixture.record(at: step, status: .rollingBack)
        for c in Self.cases {
            #expect(RescueDecision.next(record, c.seen) == c.expected, "\(c.name) after \(step)")
        }
    }

    @Test func aTargetThatWasStoppedIsNotStarted() {
        let record = Fixture.record(at: .rootDetached, status: .rollingBack, originalState: .stopped)
        #expect(RescueDecision.next(record, Fixture.seen(target: .stopped, root: Fixture.onTarget)) == .cleanUp)
    }

    @Test func rollbackReadsTheRootAndTheTarget() {
        #expect(RescueDecision.needs(Fixture.record(at: .reportReceived, status: .rollingBack)) == [.root, .target])
    }

    @Test func aRootGoneDuringRollbackStopsIt() {
        let record = Fixture.record(at: .rootDetached, status: .rollingBack)
        guard case .fail = RescueDecision.next(record, Fixture.seen(target: .stopped)) else {
            Issue.record("expected a failure")
            return
        }
    }

    @Test func aTargetGoneDuringRollbackStopsIt() {
        let record = Fixture.record(at: .rootDetached, status: .rollingBack)
        guard case .fail = RescueDecision.next(record, Fixture.seen(root: Fixture.onTarget)) else {
            Issue.record("expected a failure")
            return
        }
    }
}
