import Foundation

/// RunInstances' parameters, as the rescue uses them.
public struct RunInstancesRequest: Sendable, Equatable {
    public var imageId: String
    public var instanceType: String
    /// Makes the call idempotent (and so retryable): the same token never launches twice.
    public var clientToken: String
    public var subnetId: String?
    public var securityGroupIds: [String] = []
    /// Set: the subnet and groups go on a primary network interface that asks for (or declines) a
    /// public IPv4, overriding the subnet's MapPublicIpOnLaunch.
    public var associatePublicIpAddress: Bool?
    /// Plain text; base64-encoded here (EC2 caps the encoded form at 16 KB).
    public var userData: String?
    /// `stop` or `terminate`.
    public var instanceInitiatedShutdownBehavior: String?
    public var blockDeviceMappings: [BlockDeviceMapping] = []
    /// IMDS: `required` makes tokens (IMDSv2) mandatory.
    public var metadataHttpTokens: String? = "required"
    public var iamInstanceProfileArn: String?
    public var keyName: String?
    /// Tags for `instance`, `volume` and `network-interface`.
    public var tags: [Tag] = []

    public init(imageId: String, instanceType: String, clientToken: String) {
        self.imageId = imageId
        self.instanceType = instanceType
        self.clientToken = clientToken
    }

    public struct BlockDeviceMapping: Sendable, Equatable {
        public var deviceName: String
        public var volumeSize: Int?
        public var volumeType: String?
        public var deleteOnTermination: Bool?
        public var encrypted: Bool?
        public init(
            deviceName: String, volumeSize: Int? = nil, volumeType: String? = nil, deleteOnTermination: Bool? = nil,
            encrypted: Bool? = nil
        ) {
            self.deviceName = deviceName
            self.volumeSize = volumeSize
            self.volumeType = volumeType
            self.deleteOnTermination = deleteOnTermination
            self.encrypted = encrypted
        }
    }

    var parameters: QueryParameters {
        var params = QueryParameters()
        params.set("ImageId", imageId)
        params.set("InstanceType", instanceType)
        params.set("MinCount", 1)
        params.set("MaxCount", 1)
        params.set("ClientToken", clientToken)
        if let associatePublicIpAddress {
            // API reference, RunInstances: a network interface "must be the primary" (index 0) to
            // take AssociatePublicIpAddress, and then carries the subnet and groups itself.
            params.set("NetworkInterface.1.DeviceIndex", 0)
            params.set("NetworkInterface.1.SubnetId", subnetId)
            params.set("NetworkInterface.1.AssociatePublicIpAddress", associatePublicIpAddress)
            params.list("NetworkInterface.1.SecurityGroupId", securityGroupIds)
        } else {
            params.set("SubnetId", subnetId)
            params.list("SecurityGroupId", securityGroupIds)
        }
        params.set("UserData", userData.map { Data($0.utf8).base64EncodedString() })
        params.set("InstanceInitiatedShutdownBehavior", instanceInitiatedShutdownBehavior)
        params.structures("BlockDeviceMapping", blockDeviceMappings) { params, prefix, mapping in
            params.set("\(prefix).DeviceName", mapping.deviceName)
            params.set("\(prefix).Ebs.VolumeSize", mapping.volumeSize)
            params.set("\(prefix).Ebs.VolumeType", mapping.volumeType)
            params.set("\(prefix).Ebs.DeleteOnTermination", mapping.deleteOnTermination)
            params.set("\(prefix).Ebs.Encrypted", mapping.encrypted)
        }
        params.set("MetadataOptions.HttpTokens", metadataHttpTokens)
        params.set("IamInstanceProfile.Arn", iamInstanceProfileArn)
        params.set("KeyName", keyName)
        params.tagSpecifications([("instance", tags), ("volume", tags), ("network-interface", tags)])
        return params
    }
}

extension EC2Client {
    /// Launches one instance. Retried on throttling and 5xx: the client token makes that safe.
    public func runInstances(_ request: RunInstancesRequest, dryRun: Bool = false) async throws -> Instance {
        var params = request.parameters
        if dryRun { params.set("DryRun", true) }
        let root = try await call("RunInstances", params, idempotency: .nonIdempotent(clientToken: request.clientToken))
        guard let node = root.items("instancesSet").first else {
            throw AWSError(
                code: "MalformedResponse", message: "RunInstances answered without an instance", httpStatus: 200,
                service: "ec2", action: "RunInstances")
        }
        return Instance.parse(node)
    }
}
