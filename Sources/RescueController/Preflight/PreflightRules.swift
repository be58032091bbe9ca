import AWSKit

/// What preflight learnt from the account, read-only. The rules below turn it into refusals and
/// warnings without any I/O, so every rule is tested on plain values.
public struct PreflightFacts: Sendable {
    public var instance: Instance
    public var rootVolume: Volume?
    /// nil when DescribeInstanceAttribute failed: unknown, so a warning rather than "no protection".
    public var disableApiStop: Bool?
    public var spotRequest: SpotInstanceRequest?
    public var elasticIP: Bool
    /// nil when the key was not checked (unencrypted root); false when DescribeKey failed or the key is not Enabled.
    public var kmsKeyUsable: Bool?
    public var subnetReachesS3: Bool
    /// `--subnet`, and whether Block Public Access stops internet gateways: for the no-route refusal's words.
    public var subnetRequested: String?
    public var internetGatewayBlocked = false
    /// The target's type has instance-store volumes; nil when DescribeInstanceTypes failed.
    public var instanceStore: Bool? = false
    public var autoScaling = AutoScalingMembership.notMember
    /// `--standby`.
    public var standby = false
    /// `--allow-instance-store-loss`.
    public var allowInstanceStoreLoss = false
    public var rescueImageFound: Bool

    public init(
        instance: Instance, rootVolume: Volume?, disableApiStop: Bool? = false, spotRequest: SpotInstanceRequest? = nil,
        elasticIP: Bool = false, kmsKeyUsable: Bool? = nil, subnetReachesS3: Bool = true, rescueImageFound: Bool = true
    ) {
        self.instance = instance
        self.rootVolume = rootVolume
        self.disableApiStop = disableApiStop
        self.spotRequest = spotRequest
        self.elasticIP = elasticIP
        self.kmsKeyUsable = kmsKeyUsable
        self.subnetReachesS3 = subnetReachesS3
        self.rescueImageFound = rescueImageFound
    }
}

public enum PreflightRules {
    public static func findings(_ f: PreflightFacts) -> [PlanFinding] {
        let i = f.instance
        var out: [PlanFinding] = []
        func refuse(_ code: String, _ message: String, _ hint: String) {
            out.append(PlanFinding(.refusal, code: code, message: message, hint: hint))
        }
        func warn(_ code: String, _ message: String, _ hint: String) {
            out.append(PlanFinding(.warning, code: code, message: message, hint: hint))
        }

        if let run = i.tags.first(where: { $0.key == RunTags.run })?.value {
            refuse(
                "rescue-in-progress", "\(i.instanceId) already has a rescue in progress (run \(run))",
                "finish it with `keyrescue resume \(run)` or undo it with `keyrescue rollback \(run)`")
        }
        if ![InstanceState.running, .stopped].contains(i.state) {
            refuse(
                "instance-state", "\(i.instanceId) is \(i.state)", "wait until it is running or stopped, then run again"
            )
        }
        if i.rootDeviceType == "instance-store" {
            refuse(
                "instance-store-root",
                "\(i.instanceId) has an instance-store root: it cannot be stopped without losing its disk",
                "keyrescue needs an EBS root volume")
        }
        if (i.platform ?? "").lowercased() == "windows" {
            refuse(
                "windows", "\(i.instanceId) runs Windows",
                "keyrescue handles Linux; for Windows use EC2Rescue or EC2Launch's password reset")
        }
        if f.disableApiStop == nil {
            warn(
                "stop-protection-unknown", "\(i.instanceId)'s stop protection (DisableApiStop) could not be read",
                "check it with aws ec2 describe-instance-attribute --instance-id \(i.instanceId) --attribute disableApiStop; if it is on, the stop fails and the rescue rolls back"
            )
        }
        if f.disableApiStop == true {
            refuse(
                "stop-protection", "\(i.instanceId) has stop protection (DisableApiStop)",
                "turn it off for the rescue: aws ec2 modify-instance-attribute --instance-id \(i.instanceId) --no-disable-api-stop"
            )
        }
        if i.instanceLifecycle == "spot" {
            let r = f.spotRequest
            if r?.type != "persistent" || r?.instanceInterruptionBehavior != "stop" {
                refuse(
                    "spot",
                    "\(i.instanceId) is a Spot instance whose request is not persistent with interruption behaviour stop (or cannot be read)",
                    "a Spot instance with its root detached can be terminated and lose the volume; rescue it by hand from a snapshot"
                )
            }
        }
        if i.rootDeviceName == nil || f.rootVolume == nil {
            refuse(
                "no-root-volume", "\(i.instanceId) has no EBS volume at its root device \(i.rootDeviceName ?? "?")",
                "attach its root volume first")
        }
        if !f.subnetReachesS3 {
            out.append(
                SubnetChoice.refusal(
                    zone: i.availabilityZone ?? "the instance's zone", requested: f.subnetRequested,
                    internetGatewayBlocked: f.internetGatewayBlocked))
        }
        out += stoppedStateFindings(i) + instanceStoreFindings(f)
        if !f.rescueImageFound {
            refuse(
                "no-rescue-image", "no rescue image: the Amazon Linux 2023 SSM parameter could not be read",
                "pass --rescue-ami with an x86_64 Linux AMI that has curl")
        }
        out += AutoScalingRules.findings(i, f.autoScaling, standby: f.standby)
        if i.publicIpAddress != nil && !f.elasticIP {
            if i.networkInterfaceCount > 1 {
                // EC2 user guide, "Public IPv4 addresses": a public IPv4 is not assigned at start
                // when the instance has more than one network interface.
                warn(
                    "public-ip-lost",
                    "\(i.instanceId) has a public IP without an Elastic IP and \(i.networkInterfaceCount) network interfaces: after the stop it gets NO public IPv4",
                    "associate an Elastic IP before the rescue, or reach it by its private address afterwards")
            } else {
                warn(
                    "public-ip-changes",
                    "\(i.instanceId) has a public IP without an Elastic IP: it will change after the stop",
                    "the summary prints the new address; associate an Elastic IP to keep one")
            }
        }
        if !i.productCodes.isEmpty {
            warn(
                "marketplace",
                "\(i.instanceId) has Marketplace product codes: the rescue host is stopped while the volume is attached",
                "nothing to do; the rescue takes a minute longer")
        }
        if f.kmsKeyUsable == false {
            warn(
                "kms-key", "the root volume is encrypted with a KMS key keyrescue could not confirm usable",
                "make sure your identity may use the key (kms:CreateGrant, kms:Decrypt) or the attach will fail and roll back"
            )
        }
        return out
    }
}

extension PreflightRules {
    /// A stopped target whose last stop must not be undone by the rescue's start.
    static func stoppedStateFindings(_ i: Instance) -> [PlanFinding] {
        guard i.state == .stopped else { return [] }
        switch i.stateReasonCode {
        case "Client.UserInitiatedHibernate":
            // EC2 user guide, "Hibernate your instance": a start resumes from the RAM saved on the
            // root volume, so it would restore a state older than the new key.
            return [
                PlanFinding(
                    .refusal, code: "hibernated", message: "\(i.instanceId) was stopped by hibernation",
                    hint: "start it once (it resumes from hibernation), stop it normally, then run keyrescue again")
            ]
        case "Server.SpotInstanceShutdown":
            // EC2 user guide, "Spot Instance interruptions": EC2 starts an interrupted persistent
            // request's instance when capacity returns, and it needs its root volume then.
            return [
                PlanFinding(
                    .refusal, code: "spot-interrupted",
                    message:
                        "\(i.instanceId) is a Spot instance stopped by an interruption: EC2 may start it at any time",
                    hint: "wait until EC2 starts it again (or cancel the Spot request), then run keyrescue again")
            ]
        default: return []
        }
    }
}

extension PreflightRules {
    /// EC2 user guide, "Instance store temporary block storage": data on instance-store volumes
    /// is lost when the instance stops, and the rescue stops it.
    static func instanceStoreFindings(_ f: PreflightFacts) -> [PlanFinding] {
        let i = f.instance
        let type = i.instanceType ?? "its type"
        switch (f.instanceStore, f.allowInstanceStoreLoss) {
        case (true, false):
            return [
                PlanFinding(
                    .refusal, code: "instance-store",
                    message: "\(i.instanceId) (\(type)) has instance-store volumes: the stop erases them",
                    hint: "copy what you need off them first, then run again with --allow-instance-store-loss")
            ]
        case (true, true):
            return [
                PlanFinding(
                    .warning, code: "instance-store-loss",
                    message: "\(i.instanceId)'s instance-store volumes will be erased by the stop",
                    hint: "you passed --allow-instance-store-loss; answer y only if nothing on them is needed")
            ]
        case (nil, _):
            return [
                PlanFinding(
                    .warning, code: "instance-store-unknown",
                    message: "whether \(type) has instance-store volumes could not be read (DescribeInstanceTypes)",
                    hint: "check it with aws ec2 describe-instance-types --instance-types \(type); a stop erases them")
            ]
        default: return []
        }
    }
}
