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
    public static let rescueTypes = ["t3.micro", "t3a.micro", "t2.micro", "m5.large"]
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
        let subnet = request.subnet ?? instance.subnetId
        facts.subnetReachesS3 = try await subnetReachesS3(subnet, vpc: instance.vpcId)
        var image = request.rescueAMI
        if image == nil { image = try? await aws.ssm.getParameter(Self.al2023Parameter) }
        facts.rescueImageFound = image != nil
        var findings = PreflightRules.findings(facts)
        if let subnet, request.subnet != nil, let zone = instance.availabilityZone,
            let found = try await aws.ec2.describeSubnets(ids: [subnet]).first, found.availabilityZone != zone
        {
            findings.append(
                PlanFinding(
                    .refusal, code: "subnet-zone",
                    message: "subnet \(subnet) is in \(found.availabilityZone ?? "?"), the instance in \(zone)",
                    hint: "pass a subnet in \(zone): a volume attaches only within its zone"))
        }
        guard findings.allSatisfy({ $0.severity == PlanFinding.Severity.warning }), let volume, let image,
            let rootDevice = instance.rootDeviceName,
            let zone = instance.availabilityZone
        else { return PreflightResult(plan: nil, findings: findings) }

        var type = request.instanceType
        if type == nil { type = try await rescueType(zone: zone) }
        let agent = try Data(contentsOf: URL(fileURLWithPath: request.agentPath))
        let bucket = request.bucket ?? "keyrescue-\(identity.account)-\(aws.region)"
        let plan = RescuePlan(
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
            rescueHost: .init(imageID: image, instanceType: type ?? Self.rescueTypes[0], subnetID: subnet),
            delivery: .init(
                bucket: bucket, createBucket: request.bucket == nil, prefix: "keyrescue/\(runID)/",
                agentPath: request.agentPath, agentSHA256: Digest.hex(Digest.sha256(agent))),
            keys: .init(
                publicKeys: request.publicKeys, privateKeyPath: request.privateKeyPath, user: request.user,
                replace: request.replaceKeys),
            options: .init(
                verify: request.verify, deleteSnapshot: request.deleteSnapshot, sshOptions: request.sshOptions),
            warnings: findings)
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

    /// The subnet's route table (its own, else the VPC's main one) must send traffic to S3: a
    /// default route through an internet or NAT gateway, or an S3 gateway endpoint's prefix list.
    func subnetReachesS3(_ subnet: String?, vpc: String?) async throws -> Bool {
        guard let subnet else { return false }
        var tables = try await aws.ec2.describeRouteTables(filters: [EC2Filter("association.subnet-id", [subnet])])
        if tables.isEmpty, let vpc {
            tables = try await aws.ec2.describeRouteTables(filters: [
                EC2Filter("vpc-id", [vpc]), EC2Filter("association.main", ["true"]),
            ])
        }
        for table in tables {
            for route in table.routes where route.state != "blackhole" {
                if route.destinationCidrBlock == "0.0.0.0/0",
                    (route.gatewayId ?? "").hasPrefix("igw-") || route.natGatewayId != nil
                {
                    return true
                }
                if (route.destinationPrefixListId ?? "").hasPrefix("pl-") { return true }
            }
        }
        return false
    }

    func rescueType(zone: String) async throws -> String {
        let offered = try await aws.ec2.describeInstanceTypeOfferings(filters: [
            EC2Filter("location", [zone]), EC2Filter("instance-type", Self.rescueTypes),
        ])
        return Self.rescueTypes.first { offered.contains($0) } ?? Self.rescueTypes[0]
    }

    /// DryRun probes of the calls a rescue makes, all at once; each denial names the IAM action
    /// to grant, in the order the rescue would need them.
    public func probePermissions(_ plan: RescuePlan) async throws -> [String] {
        let ec2 = aws.ec2
        let t = plan.target
        let probes: [(String, @Sendable () async throws -> Void)] = [
            ("ec2:CreateSnapshot", { _ = try await ec2.createSnapshot(volumeId: t.rootVolumeID, dryRun: true) }),
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
                    _ = try await ec2.runInstances(r, dryRun: true)
                }
            ),
            (
                "ec2:CreateSecurityGroup",
                {
                    _ = try await ec2.createSecurityGroup(
                        name: "keyrescue-dryrun", description: "probe", vpcId: t.vpcID, dryRun: true)
                }
            ),
        ]
        let denials = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for (index, (action, call)) in probes.enumerated() {
                group.addTask {
                    guard case .denied(let error) = try await ec2.probePermission(call) else { return (index, nil) }
                    return (index, "\(action) (\(error.code))")
                }
            }
            var found: [(Int, String)] = []
            for try await (index, denial) in group { if let denial { found.append((index, denial)) } }
            return found
        }
        return denials.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
