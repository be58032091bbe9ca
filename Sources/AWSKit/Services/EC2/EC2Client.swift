import Foundation

/// EC2 (query protocol, version 2016-11-15). Describe calls follow `NextToken` to the end.
/// Calls that take `dryRun` answer `DryRunOperation` when permitted: use `probePermission`.
public struct EC2Client: Sendable {
    public static let version = "2016-11-15"
    public let client: ServiceClient

    public init(client: ServiceClient) { self.client = client }

    func call(_ action: String, _ params: QueryParameters, idempotency: ServiceClient.Idempotency = .idempotent)
        async throws -> XMLElement
    {
        try await client.query(action, version: Self.version, params, idempotency: idempotency)
    }

    /// Every page of a Describe call: the closure picks the items out of each page.
    func paginate<T>(_ action: String, _ params: QueryParameters, _ parse: (XMLElement) -> [T]) async throws -> [T] {
        var results: [T] = []
        var token: String?
        repeat {
            var page = params
            page.set("NextToken", token)
            let root = try await call(action, page)
            results += parse(root)
            token = root.string("nextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return results
    }

    static func describe(ids name: String, _ ids: [String], filters: [EC2Filter], dryRun: Bool = false)
        -> QueryParameters
    {
        var params = QueryParameters()
        params.list(name, ids)
        params.filters(filters)
        if dryRun { params.set("DryRun", true) }
        return params
    }

    // MARK: Describe

    public func describeInstances(ids: [String] = [], filters: [EC2Filter] = [], dryRun: Bool = false) async throws
        -> [Instance]
    {
        try await paginate("DescribeInstances", Self.describe(ids: "InstanceId", ids, filters: filters, dryRun: dryRun))
        { root in
            root.items("reservationSet").flatMap { $0.items("instancesSet").map(Instance.parse) }
        }
    }

    public func describeVolumes(ids: [String] = [], filters: [EC2Filter] = []) async throws -> [Volume] {
        try await paginate("DescribeVolumes", Self.describe(ids: "VolumeId", ids, filters: filters)) {
            $0.items("volumeSet").map(Volume.parse)
        }
    }

    public func describeSnapshots(ids: [String] = [], owners: [String] = [], filters: [EC2Filter] = []) async throws
        -> [Snapshot]
    {
        var params = Self.describe(ids: "SnapshotId", ids, filters: filters)
        params.list("Owner", owners)
        return try await paginate("DescribeSnapshots", params) { $0.items("snapshotSet").map(Snapshot.parse) }
    }

    public func describeImages(ids: [String] = [], owners: [String] = [], filters: [EC2Filter] = []) async throws
        -> [Image]
    {
        var params = Self.describe(ids: "ImageId", ids, filters: filters)
        params.list("Owner", owners)
        return try await paginate("DescribeImages", params) { $0.items("imagesSet").map(Image.parse) }
    }

    public func describeSubnets(ids: [String] = [], filters: [EC2Filter] = []) async throws -> [Subnet] {
        try await paginate("DescribeSubnets", Self.describe(ids: "SubnetId", ids, filters: filters)) {
            $0.items("subnetSet").map(Subnet.parse)
        }
    }

    public func describeRouteTables(ids: [String] = [], filters: [EC2Filter] = []) async throws -> [RouteTable] {
        try await paginate("DescribeRouteTables", Self.describe(ids: "RouteTableId", ids, filters: filters)) {
            $0.items("routeTableSet").map(RouteTable.parse)
        }
    }

    public func describeVpcEndpoints(ids: [String] = [], filters: [EC2Filter] = []) async throws -> [VpcEndpoint] {
        try await paginate("DescribeVpcEndpoints", Self.describe(ids: "VpcEndpointId", ids, filters: filters)) {
            $0.items("vpcEndpointSet").map(VpcEndpoint.parse)
        }
    }

    public func describeSecurityGroups(ids: [String] = [], filters: [EC2Filter] = []) async throws -> [SecurityGroup] {
        try await paginate("DescribeSecurityGroups", Self.describe(ids: "GroupId", ids, filters: filters)) {
            $0.items("securityGroupInfo").map(SecurityGroup.parse)
        }
    }

    /// Instance types offered in a location (`availability-zone` by default), e.g. filtered by `instance-type`.
    public func describeInstanceTypeOfferings(locationType: String = "availability-zone", filters: [EC2Filter] = [])
        async throws -> [String]
    {
        var params = Self.describe(ids: "", [], filters: filters)
        params.set("LocationType", locationType)
        return try await paginate("DescribeInstanceTypeOfferings", params) { root in
            root.items("instanceTypeOfferingSet").compactMap { $0.string("instanceType") }
        }
    }

    public func describeAddresses(publicIps: [String] = [], filters: [EC2Filter] = []) async throws -> [Address] {
        let root = try await call("DescribeAddresses", Self.describe(ids: "PublicIp", publicIps, filters: filters))
        return root.items("addressesSet").map(Address.parse)
    }

    public func describeSpotInstanceRequests(ids: [String] = [], filters: [EC2Filter] = []) async throws
        -> [SpotInstanceRequest]
    {
        try await paginate(
            "DescribeSpotInstanceRequests", Self.describe(ids: "SpotInstanceRequestId", ids, filters: filters)
        ) {
            $0.items("spotInstanceRequestSet").map(SpotInstanceRequest.parse)
        }
    }

    public func describeIamInstanceProfileAssociations(ids: [String] = [], filters: [EC2Filter] = []) async throws
        -> [IamInstanceProfileAssociation]
    {
        try await paginate(
            "DescribeIamInstanceProfileAssociations", Self.describe(ids: "AssociationId", ids, filters: filters)
        ) {
            $0.items("iamInstanceProfileAssociationSet").map(IamInstanceProfileAssociation.parse)
        }
    }

    /// `disableApiStop`, `disableApiTermination`, `instanceInitiatedShutdownBehavior`, … → its value
    /// (`true`/`false`, or the text). Block device mappings: use `describeInstances`.
    public func describeInstanceAttribute(instanceId: String, attribute: String) async throws -> String? {
        var params = QueryParameters()
        params.set("InstanceId", instanceId)
        params.set("Attribute", attribute)
        let root = try await call("DescribeInstanceAttribute", params)
        return root.string(attribute, "value")
    }

    public func getConsoleOutput(instanceId: String, latest: Bool = false) async throws -> String {
        var params = QueryParameters()
        params.set("InstanceId", instanceId)
        if latest { params.set("Latest", true) }
        let root = try await call("GetConsoleOutput", params)
        guard let encoded = root.string("output"),
            let data = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters)
        else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}
