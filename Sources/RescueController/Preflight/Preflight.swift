import AWSKit
import Foundation
import RescueModel

/// What the user asked for on the command line.
public struct ResetRequest: Sendable {
    public var instanceID: String
    public var publicKeys: [String]
    public var privateKeyPath: String?
    public var user: String?
    public var replaceKeys = false
    public var subnet: String?
    public var rescueAMI: String?
    public var instanceType: String?
    public var bucket: String?
    public var verify = "ssh"
    public var deleteSnapshot = false
    public var sshOptions: [String] = []
    public var agentPath: String
    /// `--tag KEY=VALUE`: on everything the rescue creates, and on the DryRun probes.
    public var tags: [Tag] = []
    public var allowInstanceStoreLoss = false
    /// `--standby`: an InService Auto Scaling member goes to Standby for the rescue.
    public var standby = false

    public init(instanceID: String, publicKeys: [String], agentPath: String) {
        self.instanceID = instanceID
        self.publicKeys = publicKeys
        self.agentPath = agentPath
    }
}

/// The result of preflight: the plan, and every refusal and warning.
public struct PreflightResult: Sendable {
    public var plan: RescuePlan?
    public var findings: [PlanFinding]
    public var refusals: [PlanFinding] { findings.filter { $0.severity == .refusal } }
    public var warnings: [PlanFinding] { findings.filter { $0.severity == .warning } }
}

/// Read-only checks before anything changes (docs/CONTROLLER.md, "A rescue, step by step").
public struct Preflight: Sendable {
    public static let al2023Parameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    /// Small Nitro x86_64 types, cheapest first: Nitro for NVMe device names and the console's
    /// `Latest` (GetConsoleOutput: "supported on instance types that use the Nitro hypervisor").
    public static let rescueTypes = ["t3.micro", "t3a.micro", "m5.large", "m6i.large", "c5.large"]
    let aws: AWSClient

    public init(aws: AWSClient) { self.aws = aws }

    public func run(_ request: ResetRequest, runID: String) async throws -> PreflightResult {
        let identity = try await aws.sts.getCallerIdentity()
        let instance = try await findInstance(request.instanceID)
        let root = instance.blockDeviceMappings.first { $0.deviceName == instance.rootDeviceName }
        var volume: Volume?
        if let id = root?.volumeId { volume = try await aws.ec2.describeVolumes(ids: [id]).first }
        var facts = PreflightFacts(instance: instance, rootVolume: volume)
        // Unreadable is not "off": an unknown stop protection is a warning the user must accept.
        do {
            facts.disableApiStop =
                try await aws.ec2.describeInstanceAttribute(
                    instanceId: instance.instanceId, attribute: "disableApiStop") == "true"
        } catch {
            facts.disableApiStop = nil
        }
        if let spot = instance.spotInstanceRequestId {
            facts.spotRequest = try? await aws.ec2.describeSpotInstanceRequests(ids: [spot]).first
        }
        if let ip = instance.publicIpAddress {
            facts.elasticIP = !((try? await aws.ec2.describeAddresses(publicIps: [ip])) ?? []).isEmpty
        }
        if let volume, volume.encrypted, let key = volume.kmsKeyId {
            facts.kmsKeyUsable = (try? await aws.kms.describeKey(key))?.keyState == "Enabled"
        }
        facts.allowInstanceStoreLoss = request.allowInstanceStoreLoss
        if let type = instance.instanceType {
            // Unreadable is unknown (a warning needing --yes), never "no instance store".
            facts.instanceStore = (try? await aws.ec2.describeInstanceTypes([type]))?.first?.instanceStorageSupported
        }
        facts.autoScaling = await autoScalingMembership(instance.instanceId)
        facts.standby = request.standby
        let network = try await readNetwork(instance)
        let choice = network.flatMap {
            SubnetChoice.choose(target: instance.subnetId, requested: request.subnet, in: $0)
        }
        facts.subnetReachesS3 = choice != nil
        facts.subnetRequested = request.subnet
        facts.internetGatewayBlocked = network?.internetGatewayBlocked ?? false
        var image = request.rescueAMI
        if image == nil { image = try? await aws.ssm.getParameter(Self.al2023Parameter) }
        facts.rescueImageFound = image != nil
        var findings = PreflightRules.findings(facts)
        if let subnet = request.subnet, let zone = instance.availabilityZone,
            let found = try await aws.ec2.describeSubnets(ids: [subnet]).first, found.availabilityZone != zone
        {
            findings.append(
                PlanFinding(
                    .refusal, code: "subnet-zone",
                    message: "subnet \(subnet) is in \(found.availabilityZone ?? "?"), the instance in \(zone)",
                    hint: "pass a subnet in \(zone): a volume attaches only within its zone"))
        }
        let types = try await offeredTypes(request.instanceType, zone: instance.availabilityZone)
        if types.isEmpty, let zone = instance.availabilityZone {
            findings.append(Self.noTypeOffered(request.instanceType, zone: zone))
        }
        if findings.contains(where: { $0.code == "subnet-zone" }) {
            findings.removeAll { $0.code == "no-s3-route" }
        }
        guard findings.allSatisfy({ $0.severity == PlanFinding.Severity.warning }), let volume, let image,
            let choice, let type = types.first,
            let rootDevice = instance.rootDeviceName,
            let zone = instance.availabilityZone
        else { return PreflightResult(plan: nil, findings: findings) }

        let agent = try Data(contentsOf: URL(fileURLWithPath: request.agentPath))
        let bucket = request.bucket ?? "keyrescue-\(identity.account)-\(aws.region)"
        var plan = RescuePlan(
            runID: runID, region: aws.region,
            target: .init(
                instanceID: instance.instanceId, availabilityZone: zone, subnetID: instance.subnetId,
                vpcID: instance.vpcId,
                rootVolumeID: volume.volumeId, rootDeviceName: rootDevice,
                rootDeleteOnTermination: root?.deleteOnTermination ?? true, originalState: instance.state,
                publicIP: instance.publicIpAddress, privateIP: instance.privateIpAddress,
                platformDetails: instance.platform,
                hasProductCodes: !instance.productCodes.isEmpty, rootEncrypted: volume.encrypted,
                kmsKeyID: volume.kmsKeyId),
            rescueHost: .init(imageID: image, instanceType: type, subnetID: choice.subnetID),
            delivery: .init(
                bucket: bucket, createBucket: request.bucket == nil, prefix: "keyrescue/\(runID)/",
                agentPath: request.agentPath, agentSHA256: Digest.hex(Digest.sha256(agent))),
            keys: .init(
                publicKeys: request.publicKeys, privateKeyPath: request.privateKeyPath, user: request.user,
                replace: request.replaceKeys),
            options: .init(
                verify: request.verify, deleteSnapshot: request.deleteSnapshot, sshOptions: request.sshOptions),
            warnings: findings)
        plan.rescueHost.instanceTypes = types
        plan.rescueHost.associatePublicIP = choice.associatePublicIP
        plan.rescueHost.subnetReason = choice.reason
        plan.tags = request.tags
        if case .member(let m, _) = facts.autoScaling, m.lifecycleState == "InService", request.standby {
            plan.standby = true
            plan.target.autoScalingGroupName = m.groupName
        }
        return PreflightResult(plan: plan, findings: findings)
    }

    func findInstance(_ id: String) async throws -> Instance {
        do {
            if let found = try await aws.ec2.describeInstances(ids: [id]).first { return found }
        } catch let e as AWSError where e.saysNoSuchInstance {
            throw ControllerError.instanceNotFound(id, region: aws.region, awsCode: e.code)
        }
        throw ControllerError.instanceNotFound(id, region: aws.region)
    }

    func autoScalingMembership(_ id: String) async -> AutoScalingMembership {
        guard let found = try? await aws.autoScaling.describeAutoScalingInstances(ids: [id]) else { return .unknown }
        guard let m = found.first(where: { $0.instanceId == id }) else { return .notMember }
        let group = try? await aws.autoScaling.describeAutoScalingGroups(names: [m.groupName]).first
        return .member(m, group ?? nil)
    }

    /// The VPC's subnets, route tables, S3 gateway endpoints and Block Public Access mode, for
    /// SubnetChoice; nil for an instance outside a VPC.
    func readNetwork(_ instance: Instance) async throws -> SubnetChoice.Network? {
        guard let vpc = instance.vpcId, let zone = instance.availabilityZone else { return nil }
        let inVPC = [EC2Filter("vpc-id", [vpc])]
        async let subnets = aws.ec2.describeSubnets(filters: inVPC)
        async let tables = aws.ec2.describeRouteTables(filters: inVPC)
        // By service name, not by a route's pl- prefix list (VPC user guide, "Gateway endpoints").
        async let endpoints = aws.ec2.describeVpcEndpoints(filters: [
            EC2Filter("vpc-id", [vpc]), EC2Filter("service-name", ["com.amazonaws.\(aws.region).s3"]),
            EC2Filter("vpc-endpoint-type", ["Gateway"]), EC2Filter("vpc-endpoint-state", ["available"]),
        ])
        // Unreadable (an older partition, no permission): taken as off, as it is by default.
        async let blockMode = try? aws.ec2.describeVpcBlockPublicAccessMode()
        return try await SubnetChoice.Network(
            zone: zone, subnets: subnets, routeTables: tables,
            s3EndpointRouteTables: Set(endpoints.flatMap(\.routeTableIds)),
            internetGatewayBlocked: ["block-bidirectional", "block-ingress"].contains((await blockMode ?? nil) ?? "off")
        )
    }

    /// The rescue host's types the zone offers (DescribeInstanceTypeOfferings), in preference
    /// order: `--instance-type` alone, else `rescueTypes`.
    func offeredTypes(_ requested: String?, zone: String?) async throws -> [String] {
        guard let zone else { return [] }
        let wanted = requested.map { [$0] } ?? Self.rescueTypes
        let offered = try await aws.ec2.describeInstanceTypeOfferings(filters: [
            EC2Filter("location", [zone]), EC2Filter("instance-type", wanted),
        ])
        return wanted.filter { offered.contains($0) }
    }

    static func noTypeOffered(_ requested: String?, zone: String) -> PlanFinding {
        PlanFinding(
            .refusal, code: "no-rescue-type",
            message:
                "\(zone) offers \(requested ?? "none of \(rescueTypes.joined(separator: ", "))") for the rescue host",
            hint:
                "pass --instance-type with a Nitro x86_64 type the zone offers (aws ec2 describe-instance-type-offerings --location-type availability-zone --filters Name=location,Values=\(zone))"
        )
    }

    /// DryRun probes of the calls a rescue makes, all at once; each denial names the IAM action
    /// to grant, in the order the rescue would need them.
    /// STS DecodeAuthorizationMessage, when allowed; nil otherwise (the hint then says how).
    func decode(_ error: AWSError) async -> String? {
        guard let token = error.encodedAuthorizationMessage else { return nil }
        return try? await aws.sts.decodeAuthorizationMessage(token)
    }

    public func probePermissions(_ plan: RescuePlan) async throws -> [String] {
        let ec2 = aws.ec2
        let t = plan.target
        let probes: [(String, @Sendable () async throws -> Void)] = [
            (
                "ec2:CreateSnapshot",
                { _ = try await ec2.createSnapshot(volumeId: t.rootVolumeID, tags: plan.tags, dryRun: true) }
            ),
            ("ec2:StopInstances", { _ = try await ec2.stopInstances(ids: [t.instanceID], dryRun: true) }),
            ("ec2:StartInstances", { _ = try await ec2.startInstances(ids: [t.instanceID], dryRun: true) }),
            (
                "ec2:DetachVolume",
                { _ = try await ec2.detachVolume(volumeId: t.rootVolumeID, instanceId: t.instanceID, dryRun: true) }
            ),
            (
                "ec2:AttachVolume",
                {
                    _ = try await ec2.attachVolume(
                        volumeId: t.rootVolumeID, instanceId: t.instanceID, device: t.rootDeviceName, dryRun: true)
                }
            ),
            (
                "ec2:CreateTags",
                {
                    try await ec2.createTags(
                        resources: [t.instanceID], tags: [Tag(RunTags.run, plan.runID)], dryRun: true)
                }
            ),
            (
                "ec2:RunInstances",
                {
                    var r = RunInstancesRequest(
                        imageId: plan.rescueHost.imageID, instanceType: plan.rescueHost.instanceType,
                        clientToken: plan.runID + "-dryrun")
                    r.subnetId = plan.rescueHost.subnetID
                    r.associatePublicIpAddress = plan.rescueHost.associatePublicIP ? true : nil
                    r.tags = plan.tags
                    _ = try await ec2.runInstances(r, dryRun: true)
                }
            ),
            (
                "ec2:CreateSecurityGroup",
                {
                    _ = try await ec2.createSecurityGroup(
                        name: "keyrescue-dryrun", description: "probe", vpcId: t.vpcID, tags: plan.tags, dryRun: true)
                }
            ),
        ]
        let denials = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for (index, (action, call)) in probes.enumerated() {
                group.addTask {
                    guard case .denied(let error) = try await ec2.probePermission(call) else { return (index, nil) }
                    let decoded = await decode(error)
                    return (
                        index,
                        PermissionDenial.describe(action: action, error: error, decoded: decoded, tags: plan.tags)
                    )
                }
            }
            var found: [(Int, String)] = []
            for try await (index, denial) in group { if let denial { found.append((index, denial)) } }
            return found
        }
        return denials.sorted { $0.0 < $1.0 }.map(\.1) + (try await probeKeyGrant(plan).map { [$0] } ?? [])
    }

    /// A root encrypted with a customer-managed key: EC2 creates KMS grants with the caller's
    /// permissions at the attach and the start, so a denied CreateGrant would strand the root
    /// after the stop. AWS-managed keys (aws/ebs) are not probed: they take no direct grants. The
    /// probe asks for a DescribeKey-only grant (see IAMPolicy.kms): the key policy decides.
    func probeKeyGrant(_ plan: RescuePlan) async throws -> String? {
        guard plan.target.rootEncrypted, let key = plan.target.kmsKeyID,
            let meta = try? await aws.kms.describeKey(key), meta.keyManager == "CUSTOMER"
        else { return nil }
        let caller = try await aws.sts.getCallerIdentity()
        guard let refusal = try await aws.kms.probeCreateGrant(keyId: meta.arn ?? key, grantee: caller.arn) else {
            return nil
        }
        return
            "kms:CreateGrant on \(meta.arn ?? key) (\(refusal.code)): EC2 needs it to attach and start the encrypted root"
    }
}
