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
        stepNeeds(record, firstLook: firstLook).union(autoScalingNeeds(record))
    }

    static func stepNeeds(_ record: RunRecord, firstLook: Bool) -> ObservationNeeds {
        switch record.status {
        case .rollingBack: return [.root, .target]
        case .inProgress: break
        case .done, .rolledBack, .needsAttention: return []
        }
        switch record.step.next {
        case nil, .planned, .snapshotted, .agentUploaded, .cleanedUp: return []
        case .targetStopped:
            let readyWait =
                record.plan.target.originalState == .running && record.stoppedAt == nil
                && record.rescueInstanceID != nil
            return readyWait ? [.target, .rescueHost, .ready] : [.target]
        case .targetRestored: return [.target]
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
        case .rollingBack: return rollback(record, seen, timing)
        case .inProgress: break
        case .done, .rolledBack, .needsAttention: return .finish(record.status)
        }
        guard let step = record.step.next else { return .finish(.done) }
        let t = record.plan.target
        switch step {
        case .planned: return .completeStep(.planned)
        case .snapshotted: return record.snapshotID == nil ? .createSnapshot : .completeStep(step)
        case .agentUploaded: return record.objectKeys.isEmpty ? .uploadAgent : .completeStep(step)
        case .targetStopped: return stopTarget(record, seen, timing: timing)
        case .rootDetached: return detachRoot(from: t.instanceID, record, seen, timing, then: .completeStep(step))
        case .attachedToRescue: return rootOnRescueHost(record, seen, timing: timing) ?? .completeStep(step)
        case .reportReceived: return report(record, seen, timing: timing)
        case .detachedFromRescue:
            if let owner = seen.root?.attachedTo, owner != t.instanceID {
                if let held = marketplaceHold(record, owner, seen) { return held }
                return detachRoot(from: owner, record, seen, timing, then: .completeStep(step))
            }
            if record.rescueInstanceID != nil, case .state(let s) = seen.rescueHost, !s.isGone {
                return .terminateRescueHost
            }
            return .completeStep(step)
        case .rootReturned: return rootOnTarget(record, seen, timing) ?? .completeStep(step)
        case .targetRestored: return runState(record, seen) ?? .completeStep(step)
        case .cleanedUp: return standbyAfterRestore(record, seen, timing: timing) ?? .cleanUp
        }
    }

    // MARK: forward steps

    /// Ready before the stop: launch the rescue host, wait until it fetched and checked the agent,
    /// only then stop the target. A host that cannot get ready ends the run before any change.
    /// Once the stop was asked for, it is asked again until EC2 shows it (StopInstances is
    /// idempotent), then waited for.
    static func stopTarget(_ record: RunRecord, _ seen: CloudObservation, timing: EngineTiming) -> EngineAction {
        guard let target = seen.target?.state else {
            return .fail(.unexpected("the target \(record.plan.target.instanceID) is gone"))
        }
        switch target {
        case .running, .pending:
            if record.stoppedAt != nil { return .stopTarget }
            guard let host = record.rescueInstanceID else { return launch(record, timing: timing) }
            if let report = seen.report, !report.ok {
                return .fail(
                    .agent(report.error ?? .init(.unrecognized, "the rescue host's bootstrap failed", hint: "")))
            }
            if seen.rescueHostReady == true { return standbyBeforeStop(record, seen, timing: timing) ?? .stopTarget }
            if let why = seen.rescueHostLaunchFailure { return .retireRescueHost(why: why) }
            switch seen.rescueHost {
            case .state(.pending), .state(.running), nil: return .wait(.rescueHostReady)
            case .state(let state): return .fail(.rescueHostNotReady("the rescue host \(host) is \(state)"))
            case .gone: return .fail(.rescueHostNotReady("the rescue host \(host) is gone"))
            }
        case .stopping, .stopped:
            if record.rescueInstanceID == nil { return launch(record, timing: timing) }
            return target == .stopped ? .completeStep(.targetStopped) : .wait(.targetStopped)
        default: return .fail(.unexpected("the target \(record.plan.target.instanceID) is \(target)"))
        }
    }

    /// Takes the root off `owner` and waits until it is available; a move cut short (attaching)
    /// is let finish first, since EC2 refuses to detach an attaching volume.
    static func detachRoot(
        from owner: String, _ record: RunRecord, _ seen: CloudObservation, _ timing: EngineTiming,
        then done: EngineAction
    ) -> EngineAction {
        guard let root = seen.root else { return .fail(.unexpected("the root volume is gone")) }
        guard let holder = root.attachedTo else {
            return root.state == .available ? done : .wait(.volumeDetached)
        }
        switch root.attachment {
        case .attaching: return .wait(.volumeAttached)
        case .detaching, .busy, .detached: return stuckDetach(record, holder, seen, timing)
        default:
            return holder == owner
                ? .detachRoot(from: owner)
                : .fail(.unexpected("the root volume is attached to \(holder), not \(owner)"))
        }
    }

    /// The root back on the target at its root device, with the DeleteOnTermination it had.
    static func rootOnTarget(_ record: RunRecord, _ seen: CloudObservation, _ timing: EngineTiming) -> EngineAction? {
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
        case .detaching, .busy, .detached: return stuckDetach(record, holder, seen, timing)
        default: break
        }
        guard holder == t.instanceID else {
            // A Marketplace root leaves only a stopped host; a rollback frees it by the host's end.
            let ours = holder == record.rescueInstanceID || (record.retiredRescueInstanceIDs ?? []).contains(holder)
            if t.hasProductCodes, ours {
                return record.rootFreedByTerminationAt == nil
                    ? .terminateToFreeRoot(host: holder) : .wait(.volumeDetached)
            }
            return .detachRoot(from: holder)
        }
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
        case .stopped:
            // Started already in this process and back to stopped: EC2 says why; do not loop.
            if record.startRequestedAt != nil {
                return .fail(.startFellBack(seen.target?.stateReason ?? "EC2 gave no StateReason"))
            }
            return .startTarget
        case .stopping: return .wait(.targetStopped)
        case .pending: return .wait(.targetRunning)
        default: return .fail(.unexpected("the target \(t.instanceID) is \(state)"))
        }
    }

    // MARK: rollback

    /// Root back at the target's root device, run state restored, back InService when this run put
    /// it in Standby, then clean up; keeps the snapshot.
    static func rollback(_ record: RunRecord, _ seen: CloudObservation, _ timing: EngineTiming) -> EngineAction {
        rootOnTarget(record, seen, timing) ?? runState(record, seen) ?? standbyAfterRestore(
            record, seen, timing: timing)
            ?? .cleanUp
    }

    /// Volumes with Marketplace codes detach only from a stopped instance: stop the rescue host
    /// first (its job is done once the report is in).
    static func marketplaceHold(_ record: RunRecord, _ owner: String, _ seen: CloudObservation) -> EngineAction? {
        guard record.plan.target.hasProductCodes, owner == record.rescueInstanceID, seen.root?.attachment == .attached,
            case .state(let state) = seen.rescueHost
        else { return nil }
        switch state {
        case .running, .pending: return .stopRescueHost
        case .stopping: return .wait(.rescueHostStopped)
        default: return nil
        }
    }

    // MARK: a detach that hangs

    /// A detach from a rescue host of this run that stays `busy`/`detaching` past the bound: the
    /// host is terminated to free the root (its job is over once the root leaves it), and only
    /// if that does not free it either, the root is force-detached. A detach from the target
    /// itself is only waited for (its deadline then stops the run): terminating it is no option.
    static func stuckDetach(_ record: RunRecord, _ holder: String, _ seen: CloudObservation, _ timing: EngineTiming)
        -> EngineAction
    {
        let ours = [record.rescueInstanceID].compactMap { $0 } + (record.retiredRescueInstanceIDs ?? [])
        guard ours.contains(holder), let asked = record.rootDetachRequestedAt else { return .wait(.volumeDetached) }
        guard let freed = record.rootFreedByTerminationAt, freed >= asked else {
            let stuck = seen.now.timeIntervalSince(asked) >= timing.stuckDetachBound
            return stuck ? .terminateToFreeRoot(host: holder) : .wait(.volumeDetached)
        }
        return seen.now.timeIntervalSince(freed) >= timing.stuckDetachBound
            ? .forceDetachRoot(from: holder) : .wait(.volumeDetached)
    }
}
