import AWSKit

/// The rescue host's types, tried in order (issue 12 rule 3): the plan lists the Nitro types the
/// zone offers, best first; a type EC2 refuses for want of it is journaled, and the next launch
/// takes the next type.
enum RescueHostTypes {
    /// RunInstances answers that another type may not meet: the zone does not offer the type
    /// (`Unsupported`: EC2 user guide, "Instance type offerings", and the API reference's "Error
    /// codes for the Amazon EC2 API"), or EC2 has none of it free there now
    /// (`InsufficientInstanceCapacity`, `InsufficientCapacityOnHost`, same page). Quotas
    /// (`InstanceLimitExceeded`, `VcpuLimitExceeded`) are the account's, not the type's: no retry.
    static let refusals: Set<String> = ["Unsupported", "InsufficientInstanceCapacity", "InsufficientCapacityOnHost"]

    /// The StateReason code of a launch EC2 accepted, then ended (`pending` → `terminated`) for
    /// want of capacity (EC2 API reference, StateReason: "Server.InsufficientInstanceCapacity:
    /// There was insufficient capacity available to satisfy the launch request").
    static let capacityStateReason = "Server.InsufficientInstanceCapacity"

    /// The plan's types in preference order (a plan from before the list names one).
    static func all(_ record: RunRecord) -> [String] {
        let host = record.plan.rescueHost
        return host.instanceTypes.isEmpty ? [host.instanceType] : host.instanceTypes
    }

    /// The first type EC2 has not refused in this run, or nil when it refused them all.
    static func next(_ record: RunRecord) -> String? {
        let refused = Set((record.rescueTypeFailures ?? []).map(\.type))
        return all(record).first { !refused.contains($0) }
    }

    /// Why EC2 ended this host's launch, when it was for want of capacity.
    static func capacityEnded(_ instance: Instance) -> String? {
        guard instance.state.isGone, instance.stateReasonCode == capacityStateReason else { return nil }
        return instance.stateReason ?? capacityStateReason
    }

    /// Every type was refused: the run ends before the target is touched, saying what each type
    /// met and what to do.
    struct NoneLaunched: Error, CustomStringConvertible {
        var zone: String
        var failures: [RunRecord.RescueTypeFailure]

        var description: String {
            let tried = failures.map { "\($0.type): \($0.code) (\($0.message))" }.joined(separator: "; ")
            return "EC2 launched no rescue host in \(zone), type by type: \(tried.isEmpty ? "no type to try" : tried)"
        }

        /// The host must be in the target's zone (its root volume is zonal): another type, or later.
        var next: String {
            "run keyrescue reset again later (capacity comes and goes), or pass --instance-type with another Nitro x86_64 type that \(zone) offers (aws ec2 describe-instance-type-offerings --location-type availability-zone --filters Name=location,Values=\(zone)); the rescue host must be in \(zone), where the root volume is"
        }
    }
}
