import Foundation

extension EC2Client {
    /// The Region's VPC Block Public Access mode for internet gateways: `off`, `block-bidirectional`
    /// or `block-ingress` (API reference, DescribeVpcBlockPublicAccessOptions).
    public func describeVpcBlockPublicAccessMode() async throws -> String? {
        let root = try await call("DescribeVpcBlockPublicAccessOptions", QueryParameters())
        return root.string("vpcBlockPublicAccessOptions", "internetGatewayBlockMode")
    }
}

/// What DescribeInstanceTypes says about one type, as preflight uses it.
public struct InstanceTypeInfo: Sendable, Equatable {
    public var instanceType: String
    /// `nitro` or `xen`.
    public var hypervisor: String?
    /// Instance-store volumes: erased by a stop.
    public var instanceStorageSupported: Bool

    public init(instanceType: String, hypervisor: String? = nil, instanceStorageSupported: Bool = false) {
        self.instanceType = instanceType
        self.hypervisor = hypervisor
        self.instanceStorageSupported = instanceStorageSupported
    }
}

extension EC2Client {
    public func describeInstanceTypes(_ types: [String]) async throws -> [InstanceTypeInfo] {
        var params = QueryParameters()
        params.list("InstanceType", types)
        return try await paginate("DescribeInstanceTypes", params) { root in
            root.items("instanceTypeSet").map {
                InstanceTypeInfo(
                    instanceType: $0.string("instanceType") ?? "", hypervisor: $0.string("hypervisor"),
                    instanceStorageSupported: $0.bool("instanceStorageSupported") ?? false)
            }
        }
    }
}
