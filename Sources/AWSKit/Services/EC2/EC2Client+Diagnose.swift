import Foundation

/// The reads `keyrescue diagnose` and the door routes need beyond the rescue's own: an image's
/// description and platform details, a key pair's fingerprint, inbound rules, network ACL
/// entries and status checks. Shapes: botocore's ec2 2016-11-15 model.
extension EC2Client {
    public struct ImageText: Sendable, Equatable {
        public var name: String?
        public var description: String?
        public var platformDetails: String?
    }

    public struct Permission: Sendable, Equatable {
        public var ipProtocol: String
        public var fromPort: Int?
        public var toPort: Int?
        public var cidrs: [String]
        public var otherSources: Bool
    }

    public struct ACLEntry: Sendable, Equatable {
        public var ruleNumber: Int
        public var ipProtocol: String
        public var allow: Bool
        public var egress: Bool
        public var cidr: String
        public var fromPort: Int?
        public var toPort: Int?
    }

    public func describeImageText(imageId: String) async throws -> ImageText? {
        let root = try await call("DescribeImages", Self.describe(ids: "ImageId", [imageId], filters: []))
        return root.items("imagesSet").first.map {
            ImageText(
                name: $0.string("name"), description: $0.string("description"),
                platformDetails: $0.string("platformDetails"))
        }
    }

    /// The fingerprint EC2 shows for a key pair, or nil when there is no such key pair.
    public func keyPairFingerprint(name: String) async throws -> String? {
        let root = try await call("DescribeKeyPairs", Self.describe(ids: "KeyName", [name], filters: []))
        return root.items("keySet").first?.string("keyFingerprint")
    }

    /// Every inbound rule of the groups.
    public func ingressPermissions(groupIds: [String]) async throws -> [Permission] {
        guard !groupIds.isEmpty else { return [] }
        let root = try await call("DescribeSecurityGroups", Self.describe(ids: "GroupId", groupIds, filters: []))
        return root.items("securityGroupInfo").flatMap { $0.items("ipPermissions") }.map { rule in
            Permission(
                ipProtocol: rule.string("ipProtocol") ?? "-1", fromPort: rule.int("fromPort"),
                toPort: rule.int("toPort"),
                cidrs: rule.items("ipRanges").compactMap { $0.string("cidrIp") }
                    + rule.items("ipv6Ranges").compactMap { $0.string("cidrIpv6") },
                otherSources: !rule.items("groups").isEmpty || !rule.items("prefixListIds").isEmpty)
        }
    }

    /// The entries of the network ACL associated with the subnet (every subnet has exactly one).
    public func networkACLEntries(subnetId: String) async throws -> [ACLEntry] {
        let root = try await call(
            "DescribeNetworkAcls", Self.describe(ids: "", [], filters: [EC2Filter("association.subnet-id", [subnetId])])
        )
        return root.items("networkAclSet").flatMap { $0.items("entrySet") }.map { entry in
            ACLEntry(
                ruleNumber: entry.int("ruleNumber") ?? 32767, ipProtocol: entry.string("protocol") ?? "-1",
                allow: entry.string("ruleAction") == "allow", egress: entry.bool("egress") ?? false,
                cidr: entry.string("cidrBlock") ?? entry.string("ipv6CidrBlock") ?? "",
                fromPort: entry.int("portRange", "from"), toPort: entry.int("portRange", "to"))
        }
    }

    /// The instance and system status checks (`ok`, `impaired`, `initializing`, …); nil when not running.
    public func statusChecks(instanceId: String) async throws -> (instance: String?, system: String?)? {
        var params = Self.describe(ids: "InstanceId", [instanceId], filters: [])
        params.set("IncludeAllInstances", true)
        let root = try await call("DescribeInstanceStatus", params)
        return root.items("instanceStatusSet").first.map {
            (instance: $0.string("instanceStatus", "status"), system: $0.string("systemStatus", "status"))
        }
    }

    /// The route table that applies to a subnet: its own association, else the VPC's main table.
    public func routeTables(subnet: String, vpc: String?) async throws -> [RouteTable] {
        let own = try await describeRouteTables(filters: [EC2Filter("association.subnet-id", [subnet])])
        guard own.isEmpty, let vpc else { return own }
        return try await describeRouteTables(filters: [
            EC2Filter("vpc-id", [vpc]), EC2Filter("association.main", ["true"]),
        ])
    }
}
