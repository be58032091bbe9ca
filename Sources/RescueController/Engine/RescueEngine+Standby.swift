import AWSKit
import Foundation

/// `--standby`: carrying out EnterStandby and ExitStandby (RescueDecision+Standby.swift decides).
extension RescueEngine {
    /// EnterStandby (`enter`) or ExitStandby: journaled before it is sent and once accepted. A 4xx
    /// refusal of a first request did not happen: it leaves the journal again. A request sent again
    /// after a crash stays (with its new date): the earlier one may have got through and not show
    /// yet, so the rollback gives the group the consistency bound to show it.
    func moveStandby(enter: Bool, _ record: inout RunRecord) async throws {
        let (target, group) = try standbyTarget(record)
        let call = enter ? "EnterStandby" : "ExitStandby"
        let requested: WritableKeyPath<RunRecord, Date?> =
            enter ? \.enterStandbyRequestedAt : \.exitStandbyRequestedAt
        let accepted: WritableKeyPath<RunRecord, Date?> = enter ? \.enterStandbyAcceptedAt : \.exitStandbyAcceptedAt
        let first = record[keyPath: requested] == nil
        record[keyPath: requested] = now
        record[keyPath: accepted] = nil
        try save(&record, "\(call) of \(target) in Auto Scaling group \(group) requested")
        try await mirrorTags(record)  // the group on the target too, for a rollback from the tags
        do {
            if enter {
                try await cloud.enterStandby(target, group: group)
            } else {
                try await cloud.exitStandby(target, group: group)
            }
        } catch let e as AWSError {
            if e.httpStatus < 500, first {
                record[keyPath: requested] = nil
                _ = saveReporting(&record, "\(call) refused: \(e.code)")
            }
            throw EngineFailure.standby(
                "Auto Scaling refused \(call) of \(target) in group \(group) (\(e.code): \(e.message)); \(target) \(enter ? "was not stopped" : "runs, in Standby")",
                next: Self.standbyAdvice(e, group: group, call: call))
        }
        record[keyPath: accepted] = now
        let change =
            enter
            ? "leaves service (desired capacity decremented)" : "returns to service (desired capacity incremented)"
        events(.note("\(target) \(change) in Auto Scaling group \(group)"))
    }

    func standbyTarget(_ record: RunRecord) throws -> (String, String) {
        guard let group = record.plan.target.autoScalingGroupName else {
            throw EngineFailure.standby(
                "the plan asks for --standby but names no Auto Scaling group",
                next: "run keyrescue reset again: preflight names the group")
        }
        return (record.plan.target.instanceID, group)
    }

    /// What to do about a refused EnterStandby/ExitStandby, from its error code.
    static func standbyAdvice(_ e: AWSError, group: String, call: String) -> String {
        switch e.code {
        case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
            return
                "allow autoscaling:EnterStandby and autoscaling:ExitStandby on group \(group) (deploy/iam-policy.json, statement StandbyForTheRescue), then run keyrescue reset again"
        case "ValidationError" where call == "EnterStandby":
            return
                "EnterStandby must keep the desired capacity at or above the group's minimum size and needs the instance InService: check with aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names \(group), lower the minimum size by one if needed, then run keyrescue reset again"
        case "ValidationError":
            return
                "ExitStandby raises the desired capacity by one, which must stay within the group's maximum size: check with aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names \(group), then resume or run aws autoscaling exit-standby yourself"
        case "ResourceContention":
            return "the group has another update under way: wait a minute, then run the command again"
        default: return "fix the cause, then run the command again"
        }
    }

    /// Said in a failure's state while this run may hold the member out of service.
    func standbyNote(_ record: RunRecord) -> String {
        guard record.plan.standby, record.enterStandbyRequestedAt != nil, record.exitStandbyAcceptedAt == nil else {
            return ""
        }
        return
            "; it stays in Standby in Auto Scaling group \(record.plan.target.autoScalingGroupName ?? "?") (not replaced) until resume or rollback returns it to service"
    }

    /// The target's place in its group, for the decisions.
    func autoScalingView(_ record: RunRecord) async throws -> AutoScalingView {
        guard let state = try await cloud.autoScalingLifecycle(record.plan.target.instanceID) else { return .notMember }
        return .lifecycle(state)
    }

    static func standbySummary(_ record: RunRecord, _ seen: CloudObservation) -> String {
        let state: String =
            switch seen.autoScaling {
            case .lifecycle(let s): s
            case .notMember: "in no Auto Scaling group"
            case nil: "?"
            }
        return "\(record.plan.target.instanceID) \(state) in \(record.plan.target.autoScalingGroupName ?? "?")"
    }
}

/// The standby calls sent to EC2 Auto Scaling.
extension AWSRescueCloud {
    public func autoScalingLifecycle(_ instanceID: String) async throws -> String? {
        try await aws.autoScaling.describeAutoScalingInstances(ids: [instanceID]).first { $0.instanceId == instanceID }?
            .lifecycleState
    }

    public func enterStandby(_ instanceID: String, group: String) async throws {
        try await aws.autoScaling.enterStandby(
            group: group, instanceIds: [instanceID], shouldDecrementDesiredCapacity: true)
    }

    public func exitStandby(_ instanceID: String, group: String) async throws {
        try await aws.autoScaling.exitStandby(group: group, instanceIds: [instanceID])
    }
}
