import Foundation

@testable import AWSKit
@testable import RescueController

/// The target's Auto Scaling group in the fake cloud, with the rules `--standby` relies on:
/// EnterStandby only from InService and not below the minimum size, through `EnteringStandby`;
/// ExitStandby through `Pending`; and the health check: an InService member seen stopping or
/// stopped is replaced (EC2 Auto Scaling user guide, "Health checks for instances in an Auto
/// Scaling group"), which a rescue must never cause.
struct FakeGroup {
    var name = "web"
    var lifecycle = "InService"
    var next: (lifecycle: String, ticks: Int)?
    /// How many ticks EnteringStandby and Pending last (several per poll: every describe ticks).
    var ticks = 8
    var desired = 2
    var minSize = 1
    /// EnterStandby answers this error code (e.g. AccessDenied) instead.
    var enterError: String?
    /// ExitStandby answers this error code this many times.
    var exitError: (code: String, times: Int)?
    /// DescribeAutoScalingInstances answers `InService` this many more times, whatever the state
    /// (its eventual consistency).
    var staleReads = 0
    /// The group found the target stopped while InService and replaced it.
    var replaced = false
}

extension FakeCloud {
    /// Makes the target an InService member of a group.
    func joinGroup(_ group: FakeGroup = FakeGroup()) { with { $0.autoScaling = group } }
    var group: FakeGroup? { with { $0.autoScaling } }

    func tickAutoScaling(_ w: inout World) {
        guard var g = w.autoScaling else { return }
        if let (lifecycle, ticks) = g.next {
            if ticks <= 1 {
                g.lifecycle = lifecycle
                g.next = nil
            } else {
                g.next = (lifecycle, ticks - 1)
            }
        }
        if g.lifecycle == "InService", let state = w.machines[Self.target]?.state,
            [.stopping, .stopped].contains(state)
        {
            g.replaced = true
        }
        w.autoScaling = g
    }

    private static func refusal(_ code: String, _ action: String) -> AWSError {
        let status = code == "AccessDenied" ? 403 : 400
        return AWSError(code: code, message: "fake", httpStatus: status, service: "autoscaling", action: action)
    }

    func autoScalingLifecycle(_ instanceID: String) async throws -> String? {
        with { w in
            w.calls.append("DescribeAutoScalingInstances")
            tickAutoScaling(&w)
            guard instanceID == Self.target, var g = w.autoScaling else { return nil }
            if g.staleReads > 0 {
                g.staleReads -= 1
                w.autoScaling = g
                return "InService"
            }
            return g.lifecycle
        }
    }

    func enterStandby(_ instanceID: String, group: String) async throws {
        try with { w in
            w.calls.append("EnterStandby")
            guard var g = w.autoScaling, g.name == group, instanceID == Self.target else {
                throw Self.refusal("ValidationError", "EnterStandby")
            }
            if let code = g.enterError { throw Self.refusal(code, "EnterStandby") }
            guard g.lifecycle == "InService", g.next == nil else {
                throw Self.refusal("ValidationError", "EnterStandby")
            }
            guard g.desired - 1 >= g.minSize else { throw Self.refusal("ValidationError", "EnterStandby") }
            g.desired -= 1
            g.lifecycle = "EnteringStandby"
            g.next = ("Standby", g.ticks)
            w.autoScaling = g
        }
    }

    func exitStandby(_ instanceID: String, group: String) async throws {
        try with { w in
            w.calls.append("ExitStandby")
            guard var g = w.autoScaling, g.name == group, instanceID == Self.target else {
                throw Self.refusal("ValidationError", "ExitStandby")
            }
            if let (code, times) = g.exitError, times > 0 {
                g.exitError = (code, times - 1)
                w.autoScaling = g
                throw Self.refusal(code, "ExitStandby")
            }
            guard g.lifecycle == "Standby" else { throw Self.refusal("ValidationError", "ExitStandby") }
            g.desired += 1
            g.lifecycle = "Pending"
            g.next = ("InService", g.ticks)
            w.autoScaling = g
        }
    }
}
