import AWSKit

/// Everything the rescue will do, decided by preflight before anything changes. Seam between
/// preflight (read-only: describe calls, refusal and warning rules, DryRun probes) and the engine
/// (the step machine that executes, journals, resumes and rolls back). Stored in the journal.
public struct RescuePlan: Codable, Equatable, Sendable {
    public var runID: String
    public var region: String
    public var target: Target
    public var rescueHost: RescueHost
    public var delivery: Delivery
    public var keys: Keys
    public var options: Options
    /// Warnings the user accepted (with `--yes` or at the prompt); shown again in the summary.
    public var warnings: [PlanFinding]
    /// The user's `--tag KEY=VALUE` pairs, put on everything the rescue creates.
    public var tags: [Tag] = []
    /// The target is an InService Auto Scaling member: EnterStandby before the stop, ExitStandby after.
    public var standby = false

    public struct Target: Codable, Equatable, Sendable {
        public var instanceID: String
        public var availabilityZone: String
        public var subnetID: String?
        public var vpcID: String?
        public var rootVolumeID: String
        public var rootDeviceName: String
        public var rootDeleteOnTermination: Bool
        /// running or stopped: the state to restore at the end.
        public var originalState: InstanceState
        public var publicIP: String?
        public var privateIP: String?
        public var platformDetails: String?
        /// Marketplace product codes: the volume may move only between stopped instances.
        public var hasProductCodes: Bool
        public var rootEncrypted: Bool
        public var kmsKeyID: String?
        public var autoScalingGroupName: String?

        public init(
            instanceID: String, availabilityZone: String, subnetID: String?, vpcID: String?,
            rootVolumeID: String, rootDeviceName: String, rootDeleteOnTermination: Bool, originalState: InstanceState,
            publicIP: String? = nil, privateIP: String? = nil, platformDetails: String? = nil,
            hasProductCodes: Bool = false, rootEncrypted: Bool = false, kmsKeyID: String? = nil
        ) {
            self.instanceID = instanceID
            self.availabilityZone = availabilityZone
            self.subnetID = subnetID
            self.vpcID = vpcID
            self.rootVolumeID = rootVolumeID
            self.rootDeviceName = rootDeviceName
            self.rootDeleteOnTermination = rootDeleteOnTermination
            self.originalState = originalState
            self.publicIP = publicIP
            self.privateIP = privateIP
            self.platformDetails = platformDetails
            self.hasProductCodes = hasProductCodes
            self.rootEncrypted = rootEncrypted
            self.kmsKeyID = kmsKeyID
        }
    }

    public struct RescueHost: Codable, Equatable, Sendable {
        public var imageID: String
        public var instanceType: String
        /// Every type the zone offers, in preference order (`instanceType` is the first), for a
        /// launch that finds no capacity.
        public var instanceTypes: [String] = []
        public var subnetID: String?
        /// RunInstances' AssociatePublicIpAddress: the subnet reaches S3 through an internet gateway
        /// but does not map public IPv4s itself.
        public var associatePublicIP = false
        /// Why preflight chose this subnet, for `plan`.
        public var subnetReason: String?
        /// nil: the engine creates a security group with no ingress, tagged with the run.
        public var securityGroupID: String?
        /// Device name the target's root is attached at on the rescue host.
        public var attachDevice: String

        public init(
            imageID: String, instanceType: String, subnetID: String?, securityGroupID: String? = nil,
            attachDevice: String = "/dev/sdf"
        ) {
            self.imageID = imageID
            self.instanceType = instanceType
            self.subnetID = subnetID
            self.securityGroupID = securityGroupID
            self.attachDevice = attachDevice
        }
    }

    public struct Delivery: Codable, Equatable, Sendable {
        public var bucket: String
        /// true when the run creates the bucket (public access blocked, one-day expiry rule).
        public var createBucket: Bool
        /// Object key prefix for this run: `keyrescue/RUN/`.
        public var prefix: String
        public var agentPath: String
        public var agentSHA256: String

        public init(bucket: String, createBucket: Bool, prefix: String, agentPath: String, agentSHA256: String) {
            self.bucket = bucket
            self.createBucket = createBucket
            self.prefix = prefix
            self.agentPath = agentPath
            self.agentSHA256 = agentSHA256
        }
    }

    public struct Keys: Codable, Equatable, Sendable {
        /// The OpenSSH public key lines to install.
        public var publicKeys: [String]
        /// Where the private key is, when known (generated or next to the .pub): used by `--verify ssh`.
        public var privateKeyPath: String?
        public var user: String?
        public var replace: Bool

        public init(publicKeys: [String], privateKeyPath: String? = nil, user: String? = nil, replace: Bool = false) {
            self.publicKeys = publicKeys
            self.privateKeyPath = privateKeyPath
            self.user = user
            self.replace = replace
        }
    }

    public struct Options: Codable, Equatable, Sendable {
        /// "none", "port" or "ssh".
        public var verify: String
        public var deleteSnapshot: Bool
        /// Extra `ssh` options for the verification login (e.g. `-J bastion`).
        public var sshOptions: [String]

        public init(verify: String = "ssh", deleteSnapshot: Bool = false, sshOptions: [String] = []) {
            self.verify = verify
            self.deleteSnapshot = deleteSnapshot
            self.sshOptions = sshOptions
        }
    }

    public init(
        runID: String, region: String, target: Target, rescueHost: RescueHost, delivery: Delivery, keys: Keys,
        options: Options = Options(), warnings: [PlanFinding] = []
    ) {
        self.runID = runID
        self.region = region
        self.target = target
        self.rescueHost = rescueHost
        self.delivery = delivery
        self.keys = keys
        self.options = options
        self.warnings = warnings
    }
}

/// A refusal or a warning found by preflight, with a stable code and what to do about it.
public struct PlanFinding: Codable, Equatable, Sendable {
    public enum Severity: String, Codable, Sendable { case refusal, warning }
    public var severity: Severity
    public var code: String
    public var message: String
    public var hint: String

    public init(_ severity: Severity, code: String, message: String, hint: String) {
        self.severity = severity
        self.code = code
        self.message = message
        self.hint = hint
    }
}

// Journals written before a field existed still load: a missing key takes the default.
extension RescuePlan {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runID = try c.decode(String.self, forKey: .runID)
        region = try c.decode(String.self, forKey: .region)
        target = try c.decode(Target.self, forKey: .target)
        rescueHost = try c.decode(RescueHost.self, forKey: .rescueHost)
        delivery = try c.decode(Delivery.self, forKey: .delivery)
        keys = try c.decode(Keys.self, forKey: .keys)
        options = try c.decode(Options.self, forKey: .options)
        warnings = try c.decode([PlanFinding].self, forKey: .warnings)
        tags = try c.decodeIfPresent([Tag].self, forKey: .tags) ?? []
        standby = try c.decodeIfPresent(Bool.self, forKey: .standby) ?? false
    }
}

extension RescuePlan.RescueHost {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageID = try c.decode(String.self, forKey: .imageID)
        instanceType = try c.decode(String.self, forKey: .instanceType)
        instanceTypes = try c.decodeIfPresent([String].self, forKey: .instanceTypes) ?? []
        subnetID = try c.decodeIfPresent(String.self, forKey: .subnetID)
        associatePublicIP = try c.decodeIfPresent(Bool.self, forKey: .associatePublicIP) ?? false
        subnetReason = try c.decodeIfPresent(String.self, forKey: .subnetReason)
        securityGroupID = try c.decodeIfPresent(String.self, forKey: .securityGroupID)
        attachDevice = try c.decode(String.self, forKey: .attachDevice)
    }
}
