/// What rollback must undo, in order, for a run journaled at a given step. The engine's rollback
/// checks EC2's real state before each of these (a step may be half done after a crash); this pure
/// table says which undo actions can be needed at all, and in which order.
public enum RollbackAction: String, Sendable, Equatable, CaseIterable {
    /// An AttachVolume may be in flight: let it finish before detaching (EC2 refuses otherwise).
    case finishPendingAttach
    /// The root volume may be on the rescue instance: detach it from there.
    case detachFromRescue
    /// The root volume may be off the target: attach it back at the original root device name.
    case reattachToTarget
    /// The target may be stopped: start it again if it was running before the rescue.
    case restoreRunState
    /// Terminate the rescue instance, delete its security group and the S3 objects; keep the snapshot.
    case cleanUp
}

/// The step machine as a pure core: state in, next action out. No I/O; the engine carries it out.
public enum StepMachine {
    /// The step to perform next for a run journaled at `step` with `status`, nil when there is none
    /// (finished, rolled back, or waiting for a person).
    public static func nextStep(_ step: RunStep, status: RunStatus) -> RunStep? {
        guard status == .inProgress else { return nil }
        return step.next
    }

    /// The undo actions a rollback may need for a run journaled at `step` (the last step finished;
    /// the following one may be half done). The root volume is never deleted: no action removes it.
    public static func rollbackSteps(_ step: RunStep) -> [RollbackAction] {
        switch step {
        case .planned, .snapshotted:
            // Nothing of the user's changed; the next step (upload) may have left S3 objects.
            return [.cleanUp]
        case .agentUploaded:
            // Stop and launch may be half done.
            return [.restoreRunState, .cleanUp]
        case .targetStopped:
            // The detach may be half done.
            return [.reattachToTarget, .restoreRunState, .cleanUp]
        case .rootDetached:
            // The attach to the rescue host may be in flight.
            return [.finishPendingAttach, .detachFromRescue, .reattachToTarget, .restoreRunState, .cleanUp]
        case .attachedToRescue, .reportReceived:
            return [.detachFromRescue, .reattachToTarget, .restoreRunState, .cleanUp]
        case .detachedFromRescue:
            // The attach back to the target may be in flight.
            return [.finishPendingAttach, .reattachToTarget, .restoreRunState, .cleanUp]
        case .rootReturned:
            return [.restoreRunState, .cleanUp]
        case .targetRestored:
            return [.cleanUp]
        case .cleanedUp:
            return []
        }
    }
}
