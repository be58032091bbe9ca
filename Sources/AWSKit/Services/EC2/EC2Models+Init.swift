/// Public starting points for the models, for callers that build them (tests of the rules that
/// read them); the parsers fill every field.
extension Instance {
    public init(instanceId: String, state: InstanceState) {
        self.init(
            instanceId: instanceId, state: state, instanceType: nil, imageId: nil, keyName: nil, availabilityZone: nil,
            subnetId: nil, vpcId: nil, publicIpAddress: nil, privateIpAddress: nil, ipv6Address: nil, stateReason: nil,
            platform: nil,
            architecture: nil,
            rootDeviceType: nil, rootDeviceName: nil, blockDeviceMappings: [], instanceLifecycle: nil,
            spotInstanceRequestId: nil, productCodes: [], iamInstanceProfileArn: nil, securityGroupIds: [], tags: [])
    }
}

extension Volume {
    public init(volumeId: String, state: VolumeState) {
        self.init(
            volumeId: volumeId, state: state, size: nil, volumeType: nil, availabilityZone: nil, encrypted: false,
            kmsKeyId: nil, snapshotId: nil, attachments: [], tags: [])
    }
}

extension SpotInstanceRequest {
    public init(spotInstanceRequestId: String) {
        self.init(
            spotInstanceRequestId: spotInstanceRequestId, type: nil, state: nil, instanceInterruptionBehavior: nil,
            instanceId: nil)
    }
}

extension SecurityGroup {
    public init(groupId: String, groupName: String, vpcId: String? = nil, tags: [Tag] = []) {
        self.init(groupId: groupId, groupName: groupName, vpcId: vpcId, ingressRuleCount: 0, tags: tags)
    }
}

extension Subnet {
    public init(subnetId: String, vpcId: String?, availabilityZone: String?, mapPublicIpOnLaunch: Bool? = nil) {
        self.init(
            subnetId: subnetId, vpcId: vpcId, availabilityZone: availabilityZone, cidrBlock: nil,
            mapPublicIpOnLaunch: mapPublicIpOnLaunch, tags: [])
    }
}

extension RouteTable {
    /// A table with default routes (`0.0.0.0/0` to each gateway: `igw-…` or `nat-…`) and its subnets.
    public init(
        routeTableId: String, vpcId: String?, defaultRouteTo gateways: [String], subnets: [String], main: Bool = false
    ) {
        self.init(
            routeTableId: routeTableId, vpcId: vpcId,
            routes: gateways.map {
                Route(
                    destinationCidrBlock: "0.0.0.0/0", destinationPrefixListId: nil,
                    gatewayId: $0.hasPrefix("nat-") ? nil : $0, natGatewayId: $0.hasPrefix("nat-") ? $0 : nil,
                    state: "active")
            },
            associations: subnets.map { Association(subnetId: $0, main: false) }
                + (main ? [Association(subnetId: nil, main: true)] : []))
    }
}
