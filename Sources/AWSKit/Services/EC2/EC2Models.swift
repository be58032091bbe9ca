import Foundation

/// An EC2 instance, as the rescue reads it (DescribeInstances' `item` under `instancesSet`).
public struct Instance: Sendable, Equatable {
    public var instanceId: String
    public var state: InstanceState
    public var instanceType: String?
    public var imageId: String?
    public var keyName: String?
    public var availabilityZone: String?
    public var subnetId: String?
    public var vpcId: String?
    public var publicIpAddress: String?
    public var privateIpAddress: String?
    /// The instance's primary IPv6 address (`ipv6Address`), when it has one.
    public var ipv6Address: String?
    /// Why the instance last changed state (`stateReason/message`), e.g. a start that fell back.
    public var stateReason: String?
    /// `windows` for Windows; nil for Linux.
    public var platform: String?
    public var architecture: String?
    /// `ebs` or `instance-store`.
    public var rootDeviceType: String?
    public var rootDeviceName: String?
    public var blockDeviceMappings: [InstanceBlockDevice]
    /// `spot`, `scheduled` or nil (on-demand).
    public var instanceLifecycle: String?
    public var spotInstanceRequestId: String?
    /// Marketplace product codes (ids).
    public var productCodes: [String]
    public var iamInstanceProfileArn: String?
    public var securityGroupIds: [String]
    public var tags: [Tag]
    /// Why the instance last changed state (`Client.UserInitiatedHibernate`, `Server.SpotInstanceShutdown`, …).
    public var stateReasonCode: String?
    /// How many network interfaces are attached (a public IPv4 is kept on restart only with one).
    public var networkInterfaceCount = 0

    static func parse(_ node: XMLElement) -> Instance {
        var instance = Instance(
            instanceId: node.string("instanceId") ?? "",
            state: InstanceState(rawValue: node.string("instanceState", "name") ?? ""),
            instanceType: node.string("instanceType"), imageId: node.string("imageId"), keyName: node.string("keyName"),
            availabilityZone: node.string("placement", "availabilityZone"), subnetId: node.string("subnetId"),
            vpcId: node.string("vpcId"), publicIpAddress: node.string("ipAddress"),
            privateIpAddress: node.string("privateIpAddress"), ipv6Address: node.string("ipv6Address"),
            stateReason: node.string("stateReason", "message"),
            platform: node.string("platform"), architecture: node.string("architecture"),
            rootDeviceType: node.string("rootDeviceType"), rootDeviceName: node.string("rootDeviceName"),
            blockDeviceMappings: node.items("blockDeviceMapping").map(InstanceBlockDevice.parse),
            instanceLifecycle: node.string("instanceLifecycle"),
            spotInstanceRequestId: node.string("spotInstanceRequestId"),
            productCodes: node.items("productCodes").compactMap { $0.string("productCode") },
            iamInstanceProfileArn: node.string("iamInstanceProfile", "arn"),
            securityGroupIds: node.items("groupSet").compactMap { $0.string("groupId") },
            tags: Tag.parse(set: node))
        instance.stateReasonCode = node.string("stateReason", "code")
        instance.networkInterfaceCount = node.items("networkInterfaceSet").count
        return instance
    }
}

/// A volume attached to an instance (`blockDeviceMapping` item).
public struct InstanceBlockDevice: Sendable, Equatable {
    public var deviceName: String
    public var volumeId: String?
    public var status: String?
    public var deleteOnTermination: Bool?

    static func parse(_ node: XMLElement) -> InstanceBlockDevice {
        InstanceBlockDevice(
            deviceName: node.string("deviceName") ?? "", volumeId: node.string("ebs", "volumeId"),
            status: node.string("ebs", "status"), deleteOnTermination: node.bool("ebs", "deleteOnTermination"))
    }
}

/// An EBS volume.
public struct Volume: Sendable, Equatable {
    public var volumeId: String
    public var state: VolumeState
    public var size: Int?
    public var volumeType: String?
    public var availabilityZone: String?
    public var encrypted: Bool
    public var kmsKeyId: String?
    public var snapshotId: String?
    public var attachments: [VolumeAttachment]
    public var tags: [Tag]

    static func parse(_ node: XMLElement) -> Volume {
        Volume(
            volumeId: node.string("volumeId") ?? "", state: VolumeState(rawValue: node.string("status") ?? ""),
            size: node.int("size"),
            volumeType: node.string("volumeType"), availabilityZone: node.string("availabilityZone"),
            encrypted: node.bool("encrypted") ?? false, kmsKeyId: node.string("kmsKeyId"),
            snapshotId: node.string("snapshotId"),
            attachments: node.items("attachmentSet").map(VolumeAttachment.parse), tags: Tag.parse(set: node))
    }
}

/// Where a volume is attached (AttachVolume and DetachVolume answer with one too).
public struct VolumeAttachment: Sendable, Equatable {
    public var volumeId: String
    public var instanceId: String?
    public var device: String?
    public var state: AttachmentState?
    public var deleteOnTermination: Bool?

    static func parse(_ node: XMLElement) -> VolumeAttachment {
        VolumeAttachment(
            volumeId: node.string("volumeId") ?? "", instanceId: node.string("instanceId"),
            device: node.string("device"),
            state: node.string("status").map(AttachmentState.init(rawValue:)),
            deleteOnTermination: node.bool("deleteOnTermination"))
    }
}

public struct Snapshot: Sendable, Equatable {
    public var snapshotId: String
    public var volumeId: String?
    /// `pending`, `completed`, `error`.
    public var state: String
    public var progress: String?
    public var encrypted: Bool
    public var description: String?
    public var tags: [Tag]

    static func parse(_ node: XMLElement) -> Snapshot {
        Snapshot(
            snapshotId: node.string("snapshotId") ?? "", volumeId: node.string("volumeId"),
            state: node.string("status") ?? "",
            progress: node.string("progress"), encrypted: node.bool("encrypted") ?? false,
            description: node.string("description"), tags: Tag.parse(set: node))
    }
}

public struct Image: Sendable, Equatable {
    public var imageId: String
    public var name: String?
    public var state: String?
    public var architecture: String?
    public var platform: String?
    public var rootDeviceName: String?
    public var rootDeviceType: String?
    public var creationDate: String?
    public var ownerId: String?

    static func parse(_ node: XMLElement) -> Image {
        Image(
            imageId: node.string("imageId") ?? "", name: node.string("name"), state: node.string("imageState"),
            architecture: node.string("architecture"), platform: node.string("platform"),
            rootDeviceName: node.string("rootDeviceName"), rootDeviceType: node.string("rootDeviceType"),
            creationDate: node.string("creationDate"), ownerId: node.string("imageOwnerId"))
    }
}

public struct Subnet: Sendable, Equatable {
    public var subnetId: String
    public var vpcId: String?
    public var availabilityZone: String?
    public var cidrBlock: String?
    public var mapPublicIpOnLaunch: Bool?
    public var tags: [Tag]

    static func parse(_ node: XMLElement) -> Subnet {
        Subnet(
            subnetId: node.string("subnetId") ?? "", vpcId: node.string("vpcId"),
            availabilityZone: node.string("availabilityZone"),
            cidrBlock: node.string("cidrBlock"), mapPublicIpOnLaunch: node.bool("mapPublicIpOnLaunch"),
            tags: Tag.parse(set: node))
    }
}

public struct RouteTable: Sendable, Equatable {
    public struct Route: Sendable, Equatable {
        public var destinationCidrBlock: String?
        public var destinationPrefixListId: String?
        public var gatewayId: String?
        public var natGatewayId: String?
        public var state: String?
    }
    public struct Association: Sendable, Equatable {
        public var subnetId: String?
        public var main: Bool
    }
    public var routeTableId: String
    public var vpcId: String?
    public var routes: [Route]
    public var associations: [Association]

    static func parse(_ node: XMLElement) -> RouteTable {
        RouteTable(
            routeTableId: node.string("routeTableId") ?? "", vpcId: node.string("vpcId"),
            routes: node.items("routeSet").map {
                Route(
                    destinationCidrBlock: $0.string("destinationCidrBlock"),
                    destinationPrefixListId: $0.string("destinationPrefixListId"),
                    gatewayId: $0.string("gatewayId"), natGatewayId: $0.string("natGatewayId"),
                    state: $0.string("state"))
            },
            associations: node.items("associationSet").map {
                Association(subnetId: $0.string("subnetId"), main: $0.bool("main") ?? false)
            })
    }
}

public struct VpcEndpoint: Sendable, Equatable {
    public var vpcEndpointId: String
    public var serviceName: String?
    public var vpcEndpointType: String?
    public var state: String?
    public var routeTableIds: [String]

    static func parse(_ node: XMLElement) -> VpcEndpoint {
        VpcEndpoint(
            vpcEndpointId: node.string("vpcEndpointId") ?? "", serviceName: node.string("serviceName"),
            vpcEndpointType: node.string("vpcEndpointType"), state: node.string("state"),
            routeTableIds: node.items("routeTableIdSet").map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
        )
    }
}

public struct SecurityGroup: Sendable, Equatable {
    public var groupId: String
    public var groupName: String
    public var vpcId: String?
    public var ingressRuleCount: Int
    public var tags: [Tag]

    static func parse(_ node: XMLElement) -> SecurityGroup {
        SecurityGroup(
            groupId: node.string("groupId") ?? "", groupName: node.string("groupName") ?? "",
            vpcId: node.string("vpcId"),
            ingressRuleCount: node.items("ipPermissions").count, tags: Tag.parse(set: node))
    }
}

public struct Address: Sendable, Equatable {
    public var publicIp: String
    public var allocationId: String?
    public var instanceId: String?
    public var associationId: String?

    static func parse(_ node: XMLElement) -> Address {
        Address(
            publicIp: node.string("publicIp") ?? "", allocationId: node.string("allocationId"),
            instanceId: node.string("instanceId"), associationId: node.string("associationId"))
    }
}

public struct SpotInstanceRequest: Sendable, Equatable {
    public var spotInstanceRequestId: String
    /// `one-time` or `persistent`.
    public var type: String?
    public var state: String?
    /// `terminate`, `stop` or `hibernate`.
    public var instanceInterruptionBehavior: String?
    public var instanceId: String?

    static func parse(_ node: XMLElement) -> SpotInstanceRequest {
        SpotInstanceRequest(
            spotInstanceRequestId: node.string("spotInstanceRequestId") ?? "", type: node.string("type"),
            state: node.string("state"),
            instanceInterruptionBehavior: node.string("instanceInterruptionBehavior"),
            instanceId: node.string("instanceId"))
    }
}

public struct IamInstanceProfileAssociation: Sendable, Equatable {
    public var associationId: String
    public var instanceId: String?
    public var instanceProfileArn: String?
    public var state: String?

    static func parse(_ node: XMLElement) -> IamInstanceProfileAssociation {
        IamInstanceProfileAssociation(
            associationId: node.string("associationId") ?? "", instanceId: node.string("instanceId"),
            instanceProfileArn: node.string("iamInstanceProfile", "arn"), state: node.string("state"))
    }
}

/// An instance state change (Start/Stop/TerminateInstances answer with one per instance).
public struct InstanceStateChange: Sendable, Equatable {
    public var instanceId: String
    public var previousState: InstanceState
    public var currentState: InstanceState

    static func parse(_ node: XMLElement) -> InstanceStateChange {
        InstanceStateChange(
            instanceId: node.string("instanceId") ?? "",
            previousState: InstanceState(rawValue: node.string("previousState", "name") ?? ""),
            currentState: InstanceState(rawValue: node.string("currentState", "name") ?? ""))
    }
}
