import AWSKit

/// The target's place in an Auto Scaling group, as preflight read it.
public enum AutoScalingMembership: Sendable, Equatable {
    case notMember
    case member(AutoScalingClient.InstanceMembership, AutoScalingClient.Group?)
    /// DescribeAutoScalingInstances failed: unknown, never taken as "not a member".
    case unknown
}

/// EC2 Auto Scaling user guide, "Temporarily remove instances from your Auto Scaling group": an
/// InService member that stops is found unhealthy and replaced; one in Standby is left alone.
///
/// With `--standby` the rescue suspends no process: Standby itself keeps the member out of the
/// health checks and scale-in (same page), which is what suspending HealthCheck/ReplaceUnhealthy
/// would do for the whole group, and suspending Terminate would not even protect it ("Considerations
/// for suspending processes": it "does not prevent the termination of ... instances that fail to
/// resume properly from standby"). What the rescue depends on is that the member can enter Standby
/// at all; EnterStandby (API reference) needs it InService and, decrementing the desired capacity,
/// the capacity to stay "equal to or greater than the minimum capacity of the group". Both are
/// refused here before any change; the engine still says so if the group refuses anyway.
enum AutoScalingRules {
    static func findings(_ i: Instance, _ membership: AutoScalingMembership, standby: Bool) -> [PlanFinding] {
        switch membership {
        case .notMember: return []
        case .unknown:
            return [
                PlanFinding(
                    .warning, code: "auto-scaling-unknown",
                    message: "whether \(i.instanceId) belongs to an Auto Scaling group could not be read",
                    hint:
                        "check with aws autoscaling describe-auto-scaling-instances --instance-ids \(i.instanceId); an InService member is replaced when it stops (then use --standby)"
                )
            ]
        case .member(let m, let group):
            return memberFindings(i, m, group, standby: standby)
        }
    }

    static func memberFindings(
        _ i: Instance, _ m: AutoScalingClient.InstanceMembership, _ group: AutoScalingClient.Group?, standby: Bool
    ) -> [PlanFinding] {
        func refuse(_ code: String, _ message: String, _ hint: String) -> [PlanFinding] {
            [PlanFinding(.refusal, code: code, message: message, hint: hint)]
        }
        switch m.lifecycleState {
        case "Standby": return []
        case "InService" where !standby:
            return refuse(
                "auto-scaling",
                "\(i.instanceId) is InService in Auto Scaling group \(m.groupName): the group replaces it when it stops",
                "run again with --standby: keyrescue moves it to Standby before the stop and back to InService after")
        case "InService":
            guard let group else {
                return refuse(
                    "auto-scaling-group", "Auto Scaling group \(m.groupName) could not be read",
                    "check that your identity may call autoscaling:DescribeAutoScalingGroups, then run again")
            }
            // EnterStandby with ShouldDecrementDesiredCapacity fails below the minimum size.
            if group.desiredCapacity - 1 < group.minSize {
                return refuse(
                    "auto-scaling-min-size",
                    "Auto Scaling group \(group.name) is at its minimum size (\(group.minSize)): Standby would go below it",
                    "lower the group's minimum size by one for the rescue (aws autoscaling update-auto-scaling-group --min-size \(group.minSize - 1)), then run again"
                )
            }
            if group.suspendedProcesses.contains("AddToLoadBalancer") {
                return [
                    PlanFinding(
                        .warning, code: "auto-scaling-load-balancer",
                        message:
                            "group \(group.name) has AddToLoadBalancer suspended: after ExitStandby \(i.instanceId) is not registered with its load balancer again",
                        hint: "resume the process or register the instance by hand after the rescue")
                ]
            }
            return []
        default:
            return refuse(
                "auto-scaling-state", "\(i.instanceId) is \(m.lifecycleState) in Auto Scaling group \(m.groupName)",
                "wait until it is InService or Standby, then run again")
        }
    }
}
