import AWSKit
import Foundation

/// The rescue's decisions as a pure function: the journal record and what was just observed of
/// the cloud in, the next action out. Forward, resume (the same forward path from wherever the
/// record and the cloud are) and rollback are all decided here; the driver only carries actions
/// out. Because every decision starts from the observed cloud, a crash anywhere is recovered by
/// observing again: an action cut short shows up as a state to finish or undo.
public enum RescueDecision {
    /// The parts of the cloud the next decision reads. `firstLook`: the first poll of the step
    /// in this process (the report wait rechecks the rescue host only then, not on every poll).
    public static func needs(_ record: RunRecord, firstLook: Bool = true) -> ObservationNeeds {
        switch record.status {
        case .rollingBack: return [.root, .target]
        case .inProgress: break
        case .done, .rolledBack, .needsAttention: return []
        }
        switch record.step.next {
        case nil, .planned, .snapshotted, .agentUploaded, .cleanedUp: return []
        case .targetStopped, .targetRestored: return [.target]
        case .rootDetached: return [.root]
        case .attachedToRescue, .detachedFromRescue: return [.root, .rescueHost]
        case .reportReceived:
            if record.report != nil { return [] }
            return firstLook ? [.report, .root, .rescueHost] : [.report]
        case .rootReturned: return [.root, .target]
        }
    }

    public static func next(_ record: RunRecord, _ seen: CloudObservation, timing: EngineTiming = EngineTiming())
        -> EngineAction
    {
        switch record.status {
        case .rollingBack: return rollback(record, seen)
        case .inProgress: break
        case .done, .rolledBack, .needsAttention: return .finish(record.status)
        }
        guard let step = record.step.next else { return .finish(.done) }
        let t = record.plan.target
        switch step {
        case .planned: return .completeStep(.planned)
        case .snapshotted: return record.snapshotID == nil ? .createSnapshot : .completeStep(step)
        case .agentUploaded: return record.objectKeys.isEmpty ? .uploadAgent : .completeStep(step)
        case .targetStopped: return stopTarget(record, seen)
        case .rootDetached: return detachRoot(from: t.instanceID, seen, then: .completeStep(step))
        case .attachedToRescue: return rootOnRescueHost(record, seen, timing: timing) ?? .completeStep(step)
        case .reportReceived: return report(record, seen, timing: timing)
        case .detachedFromRescue:
            if let owner = seen.root?.attachedTo, owner != t.instanceID {
                return detachRoot(from: owner, seen, then: .completeStep(step))
            }
            if record.rescueInstanceID != nil, case .state(let s) = seen.rescueHost, !s.isGone {
                return .terminateRescueHost
            }
            return .completeStep(step)
        case .rootReturned: return rootOnTarget(record, seen) ?? .completeStep(step)
        case .targetRestored: return runState(record, seen) ?? .completeStep(step)
        case .cleanedUp: return .cleanUp
        }
    }

    // MARK: forward steps

    /// Stop first, then launch (the host boots while the target stops), then wait for the stop.
    static func stopTarget(_ record: RunRecord, _ seen: CloudObservation) -> EngineAction {
        guard let target = seen.target?.state else {
            return .fail(.unexpected("the target \(record.plan.target.instanceID) is gone"))
        }
        switch target {
        case .running, .pending: return .stopTarget
        case .stopping, .stopped:
            if record.rescueInstanceID == nil { return .launchRescueHost }
            return target == .stopped ? .completeStep(.targetStopped) : .wait(.targetStopped)
        default: return .fail(.unexpected("the target \(record.plan.target.instanceID) is \(target)"))
        }
    }

    /// Takes the root off `owner` and waits until it is available; a move cut short (attaching)
    /// is let finish first, since EC2 refuses to detach an attaching volume.
    static func detachRoot(from owner: String, _ seen: CloudObservation, then done: EngineAction) -> EngineAction {
        guard let root = seen.root else { return .fail(.unexpected("the root volume is gone")) }
        guard let holder = root.attachedTo else {
            return root.state == .available ? done : .wait(.volumeDetached)
        }
        switch root.attachment {
        case .attaching: return .wait(.volumeAttached)
        case .detaching, .busy, .detached: return .wait(.volumeDetached)
        default:
            return holder == owner
                ? .detachRoot(from: owner)
                : .fail(.unexpected("the root volume is attached to \(holder), not \(owner)"))
        }
    }

    /// The root back on the target at its root device, with the DeleteOnTermination it had.
    static func rootOnTarget(_ record: RunRecord, _ seen: CloudObservation) -> EngineAction? {
        let t = record.plan.target
        guard let root = seen.root else { return .fail(.unexpected("the root volume \(t.rootVolumeID) is gone")) }
        guard let holder = root.attachedTo else {
            guard root.state == .available else { return .wait(.volumeDetached) }
            guard let target = seen.target?.state, !target.isGone else {
                return .fail(
                    .unexpected(
                        "the target \(t.instanceID) is \(seen.target?.state.rawValue ?? "gone"): its root volume \(t.rootVolumeID) stays available"
                    ))
            }
            if target == .stopping { return .wait(.targetStopped) }
            return .attachRoot(to: t.instanceID, device: t.rootDeviceName)
        }
        switch root.attachment {
        case .attaching: return .wait(.volumeAttached)
        case .detaching, .busy, .detached: return .wait(.volumeDetached)
        default: break
        }
        guard holder == t.instanceID else { return .detachRoot(from: holder) }
        if let dot = seen.target?.rootDeleteOnTermination, dot != t.rootDeleteOnTermination {
            return .restoreDeleteOnTermination
        }
        return nil
    }

    /// The target back in the state it had (started when it was running); nil when it is.
    static func runState(_ record: RunRecord, _ seen: CloudObservation) -> EngineAction? {
        let t = record.plan.target
        guard t.originalState == .running else { return nil }
        guard let state = seen.target?.state else { return .fail(.unexpected("the target \(t.instanceID) is gone")) }
        switch state {
        case .running: return nil
        case .stopped: return .startTarget
        case .stopping: return .wait(.targetStopped)
        case .pending: return .wait(.targetRunning)
        default: return .fail(.unexpected("the target \(t.instanceID) is \(state)"))
        }
    }

    // MARK: rollback

    /// Root back at the target's root device, run state restored, then clean up; keeps the snapshot.
    static func rollback(_ record: RunRecord, _ seen: CloudObservation) -> EngineAction {
        rootOnTarget(record, seen) ?? runState(record, seen) ?? .cleanUp
    }
}
