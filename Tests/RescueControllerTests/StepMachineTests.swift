import Testing
@testable import RescueController

@Suite struct StepMachineTests {
    @Test(arguments: RunStep.allCases)
    func nextStepFollowsTheJournalOrderWhileInProgress(step: RunStep) {
        let next = StepMachine.nextStep(step, status: .inProgress)
        if step == .cleanedUp {
            #expect(next == nil)
        } else {
            let expected = RunStep.allCases[RunStep.allCases.firstIndex(of: step)! + 1]
            #expect(next == expected)
        }
    }

    @Test(arguments: RunStep.allCases, [RunStatus.done, .rolledBack, .rollingBack, .needsAttention])
    func nothingRunsForwardUnlessInProgress(step: RunStep, status: RunStatus) {
        #expect(StepMachine.nextStep(step, status: status) == nil)
    }

    @Test func drivingFromPlannedVisitsEveryStepOnce() {
        var visited: [RunStep] = []
        var step = RunStep.planned
        while let next = StepMachine.nextStep(step, status: .inProgress) {
            visited.append(next)
            step = next
        }
        #expect(visited == Array(RunStep.allCases.dropFirst()))
    }

    static let expected: [RunStep: [RollbackAction]] = [
        .planned: [.cleanUp],
        .snapshotted: [.cleanUp],
        .agentUploaded: [.restoreRunState, .cleanUp],
        .targetStopped: [.reattachToTarget, .restoreRunState, .cleanUp],
        .rootDetached: [.finishPendingAttach, .detachFromRescue, .reattachToTarget, .restoreRunState, .cleanUp],
        .attachedToRescue: [.detachFromRescue, .reattachToTarget, .restoreRunState, .cleanUp],
        .reportReceived: [.detachFromRescue, .reattachToTarget, .restoreRunState, .cleanUp],
        .detachedFromRescue: [.finishPendingAttach, .reattachToTarget, .restoreRunState, .cleanUp],
        .rootReturned: [.restoreRunState, .cleanUp],
        .targetRestored: [.cleanUp],
        .cleanedUp: [],
    ]

    @Test(arguments: RunStep.allCases)
    func rollbackAtEveryStepBoundary(step: RunStep) {
        #expect(StepMachine.rollbackSteps(step) == Self.expected[step])
    }

    @Test(arguments: RunStep.allCases)
    func rollbackKeepsTheCanonicalOrder(step: RunStep) {
        let actions = StepMachine.rollbackSteps(step)
        let order = actions.map { RollbackAction.allCases.firstIndex(of: $0)! }
        #expect(order == order.sorted())
        #expect(Set(actions).count == actions.count)
    }

    @Test(arguments: RunStep.allCases)
    func onceTheTargetIsTouchedRollbackRestoresItsRunState(step: RunStep) {
        let actions = StepMachine.rollbackSteps(step)
        if step.targetTouched && step < .targetRestored {
            #expect(actions.contains(.restoreRunState))
        }
        if step < .cleanedUp { #expect(actions.last == .cleanUp) }
    }

    @Test(arguments: RunStep.allCases)
    func whileTheRootIsOffTheTargetRollbackPutsItBack(step: RunStep) {
        let rootOff = step >= .targetStopped && step < .rootReturned
        #expect(StepMachine.rollbackSteps(step).contains(.reattachToTarget) == rootOff)
    }
}
