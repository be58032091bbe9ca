import Foundation

/// EC2 Auto Scaling (query protocol, 2011-01-01): what a rescue of a group member needs.
public struct AutoScalingClient: Sendable {
    public static let version = "2011-01-01"
    public let client: ServiceClient
    public init(client: ServiceClient) { self.client = client }

    public struct InstanceMembership: Sendable, Equatable {
        public var instanceId: String
        public var groupName: String
        /// `InService`, `Standby`, `Pending`, …
        public var lifecycleState: String

        public init(instanceId: String, groupName: String, lifecycleState: String) {
            self.instanceId = instanceId
            self.groupName = groupName
            self.lifecycleState = lifecycleState
        }
    }

    public struct Group: Sendable, Equatable {
        public var name: String
        public var minSize: Int
        public var desiredCapacity: Int
        /// Suspended scaling processes (`Launch`, `Terminate`, `HealthCheck`, …).
        public var suspendedProcesses: [String]

        public init(name: String, minSize: Int, desiredCapacity: Int, suspendedProcesses: [String] = []) {
            self.name = name
            self.minSize = minSize
            self.desiredCapacity = desiredCapacity
            self.suspendedProcesses = suspendedProcesses
        }
    }

    /// The group membership of each instance that has one (none: not a member).
    public func describeAutoScalingInstances(ids: [String]) async throws -> [InstanceMembership] {
        var params = QueryParameters()
        params.list("InstanceIds.member", ids)
        let root = try await client.query("DescribeAutoScalingInstances", version: Self.version, params)
        return (root.find("AutoScalingInstances")?.all("member") ?? []).map {
            InstanceMembership(
                instanceId: $0.string("InstanceId") ?? "", groupName: $0.string("AutoScalingGroupName") ?? "",
                lifecycleState: $0.string("LifecycleState") ?? "")
        }
    }

    public func describeAutoScalingGroups(names: [String]) async throws -> [Group] {
        var params = QueryParameters()
        params.list("AutoScalingGroupNames.member", names)
        let root = try await client.query("DescribeAutoScalingGroups", version: Self.version, params)
        return (root.find("AutoScalingGroups")?.all("member") ?? []).map { group in
            Group(
                name: group.string("AutoScalingGroupName") ?? "", minSize: group.int("MinSize") ?? 0,
                desiredCapacity: group.int("DesiredCapacity") ?? 0,
                suspendedProcesses: (group.find("SuspendedProcesses")?.all("member") ?? []).compactMap {
                    $0.string("ProcessName")
                })
        }
    }

    /// EnterStandby of one instance. Not retried by the client: a first attempt that got through
    /// makes a second one fail (the instance is no longer InService); the caller observes the
    /// lifecycle state instead.
    public func enterStandby(group: String, instanceIds: [String], shouldDecrementDesiredCapacity: Bool)
        async throws
    {
        var params = QueryParameters()
        params.set("AutoScalingGroupName", group)
        params.list("InstanceIds.member", instanceIds)
        params.set("ShouldDecrementDesiredCapacity", shouldDecrementDesiredCapacity)
        _ = try await client.query(
            "EnterStandby", version: Self.version, params, idempotency: .nonIdempotent(clientToken: nil))
    }

    /// ExitStandby (the group increments its desired capacity); not retried, as EnterStandby.
    public func exitStandby(group: String, instanceIds: [String]) async throws {
        var params = QueryParameters()
        params.set("AutoScalingGroupName", group)
        params.list("InstanceIds.member", instanceIds)
        _ = try await client.query(
            "ExitStandby", version: Self.version, params, idempotency: .nonIdempotent(clientToken: nil))
    }
}
