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
