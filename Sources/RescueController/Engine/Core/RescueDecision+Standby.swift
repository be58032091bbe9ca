import AWSKit
import Foundation

/// The target's place in its Auto Scaling group, as DescribeAutoScalingInstances answered.
public enum AutoScalingView: Sendable, Equatable {
    /// Its LifecycleState: `InService`, `EnteringStandby`, `Standby`, `Pending`, …
    case lifecycle(String)
    /// It belongs to no group (any more).
    case notMember
}

/// `--standby` (issue 12, rule 7): an InService Auto Scaling member is stopped only in `Standby`.
/// EC2 Auto Scaling user guide, "Temporarily remove instances from your Auto Scaling group": an
/// instance on standby can be stopped and started "without worrying about Amazon EC2 Auto Scaling
/// terminating the instances as part of its health checks or during scale-in events"; EnterStandby
/// with ShouldDecrementDesiredCapacity keeps the group from launching a replacement, ExitStandby
/// increments the desired capacity again (API reference, EnterStandby / ExitStandby).
///
/// Both calls are journaled before they are sent and again once Auto Scaling accepted them. Neither
/// is sent twice blindly: after a crash the lifecycle state says whether a request got through, and
/// one that did not show within `eventualConsistency` is sent again (the instance is still InService,
/// so a second EnterStandby is what the first would have been).
extension RescueDecision {
    /// The Auto Scaling part of `needs`: read only where a standby decision is taken.
    static func autoScalingNeeds(_ record: RunRecord) -> ObservationNeeds {
        guard record.plan.standby, record.enterStandbyRequestedAt != nil else { return [] }
        switch record.status {
        case .rollingBack: return .autoScaling
        case .inProgress:
            switch record.step.next {
            case .targetStopped: return record.stoppedAt == nil ? .autoScaling : []
            case .cleanedUp: return .autoScaling
            default: return []
            }
        case .done, .rolledBack, .needsAttention: return []
        }
    }

    /// Before the stop: the target in Standby, or the action that gets it there; nil when it is
    /// there (or the run has no `--standby`).
    static func standbyBeforeStop(_ record: RunRecord, _ seen: CloudObservation, timing: EngineTiming)
        -> EngineAction?
    {
        guard record.plan.standby else { return nil }
        guard let asked = record.enterStandbyRequestedAt else { return .enterStandby }
        guard let view = seen.autoScaling else { return .wait(.standbyEntered) }  // not read this poll
        guard case .lifecycle(let state) = view else { return .fail(leftTheGroup(record)) }
        switch state {
        case "Standby": return nil
        case "EnteringStandby": return .wait(.standbyEntered)
        case "InService":
            // Accepted: the group shows it soon (its describe calls are eventually consistent).
            // Not accepted (a crash around the call): wait as long, then ask again.
            let recent = seen.now.timeIntervalSince(asked) < timing.eventualConsistency
            return record.enterStandbyAcceptedAt != nil || recent ? .wait(.standbyEntered) : .enterStandby
        default:
            return .fail(
                .standby(
                    "\(record.plan.target.instanceID) is \(state) in Auto Scaling group \(groupName(record)), not InService: it cannot go to Standby, and it was not stopped",
                    next: "wait until it is InService again, then run keyrescue reset again"))
        }
    }

    /// Once the target runs in its original state: back InService, or the action that gets it
    /// there; nil when it is (or it was never moved to Standby by this run: left alone).
    static func standbyAfterRestore(_ record: RunRecord, _ seen: CloudObservation, timing: EngineTiming)
        -> EngineAction?
    {
        guard record.plan.standby, let entered = record.enterStandbyRequestedAt else { return nil }
        guard let view = seen.autoScaling else { return .wait(.backInService) }  // not read this poll
        guard case .lifecycle(let state) = view else { return .fail(leftTheGroup(record)) }
        switch state {
        case "Standby":
            guard let asked = record.exitStandbyRequestedAt else { return .exitStandby }
            let recent = seen.now.timeIntervalSince(asked) < timing.eventualConsistency
            return record.exitStandbyAcceptedAt != nil || recent ? .wait(.backInService) : .exitStandby
        case "EnteringStandby": return .wait(.standbyEntered)  // let it finish, then bring it back
        case "Pending", "Pending:Wait", "Pending:Proceed": return .wait(.backInService)
        case "InService":
            // An EnterStandby just sent may not show yet: do not leave before it would.
            let mayStillEnter =
                record.exitStandbyRequestedAt == nil
                && seen.now.timeIntervalSince(entered) < timing.eventualConsistency
            return mayStillEnter ? .wait(.standbyEntered) : nil
        default:
            return .fail(
                .standby(
                    "\(record.plan.target.instanceID) is \(state) in Auto Scaling group \(groupName(record)) instead of Standby or InService",
                    next:
                        "check the group's activities (aws autoscaling describe-scaling-activities --auto-scaling-group-name \(groupName(record)))"
                ))
        }
    }

    static func groupName(_ record: RunRecord) -> String { record.plan.target.autoScalingGroupName ?? "?" }

    static func leftTheGroup(_ record: RunRecord) -> EngineFailure {
        .standby(
            "\(record.plan.target.instanceID) is no longer a member of Auto Scaling group \(groupName(record))",
            next:
                "someone detached it during the rescue; attach it again if it belongs there (aws autoscaling attach-instances)"
        )
    }
}
