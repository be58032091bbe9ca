import AWSKit
import Foundation

/// The EC2 and S3 calls a rescue makes, and nothing else: the engine's only way to the cloud.
/// `AWSRescueCloud` sends them to AWS; tests put a fake cloud behind it.
/// Lookups answer nil for what does not exist (NotFound), so callers never match error codes.
public protocol RescueCloud: Sendable {
    func describeInstance(_ id: String) async throws -> Instance?
    /// The rescue host launched with this ClientToken (tagged `keyrescue:launch`), unless it is
    /// gone. (EC2's `client-token` filter would do, but moto does not implement it.)
    func instance(launchToken: String) async throws -> Instance?
    func describeVolume(_ id: String) async throws -> Volume?
    func runInstances(_ request: RunInstancesRequest) async throws -> Instance
    func stopInstance(_ id: String) async throws
    func startInstance(_ id: String) async throws
    func terminateInstance(_ id: String) async throws
    func attachVolume(_ volumeID: String, to instanceID: String, device: String) async throws
    func detachVolume(_ volumeID: String, from instanceID: String) async throws
    /// DetachVolume with Force=true: the last resort for a detach stuck `busy`.
    func forceDetachVolume(_ volumeID: String, from instanceID: String) async throws
    func setDeleteOnTermination(_ value: Bool, instanceID: String, device: String) async throws
    func createTags(_ resource: String, _ tags: [Tag]) async throws
    func deleteTags(_ resource: String, keys: [String]) async throws
    /// The snapshot tagged `keyrescue:run=RUN`, if there is one.
    func snapshot(run runID: String) async throws -> String?
    func createSnapshot(volumeID: String, description: String, tags: [Tag]) async throws -> String
    func deleteSnapshot(_ id: String) async throws
    func securityGroup(named name: String) async throws -> String?
    func createSecurityGroup(name: String, description: String, vpcID: String?, tags: [Tag]) async throws -> String
    func deleteSecurityGroup(_ id: String) async throws
    func consoleOutput(_ instanceID: String) async throws -> String
    /// Creates the bucket (one the caller owns already is fine), blocks public access and expires
    /// `prefix` after `days`.
    func prepareBucket(_ bucket: String, expirePrefix prefix: String, days: Int) async throws
    func putObject(_ bucket: String, key: String, body: Data) async throws
    /// nil when there is no such key (404).
    func headObject(_ bucket: String, key: String) async throws -> S3ObjectHead?
    /// nil when there is no such key.
    func getObject(_ bucket: String, key: String) async throws -> Data?
    /// Deleting a key that is not there is fine.
    func deleteObject(_ bucket: String, key: String) async throws
    func presign(_ method: String, bucket: String, key: String, expires: Int) async throws -> (
        url: URL, validUntil: Date
    )

    // Auto Scaling, for `--standby` (AWSRescueCloud+Standby.swift).
    /// The instance's LifecycleState in its Auto Scaling group; nil when it is in none.
    func autoScalingLifecycle(_ instanceID: String) async throws -> String?
    /// EnterStandby with ShouldDecrementDesiredCapacity=true.
    func enterStandby(_ instanceID: String, group: String) async throws
    func exitStandby(_ instanceID: String, group: String) async throws
}

/// The rescue's calls sent to AWS through AWSKit.
public struct AWSRescueCloud: RescueCloud {
    let aws: AWSClient
    var ec2: EC2Client { aws.ec2 }

    public init(_ aws: AWSClient) { self.aws = aws }

    public func describeInstance(_ id: String) async throws -> Instance? {
        do { return try await ec2.describeInstances(ids: [id]).first } catch let e as AWSError where e.isNotFound {
            return nil
        }
    }

    public func instance(launchToken: String) async throws -> Instance? {
        try await ec2.describeInstances(filters: [EC2Filter("tag:\(RunTags.launch)", [launchToken])]).first {
            !$0.state.isGone
        }
    }

    public func describeVolume(_ id: String) async throws -> Volume? {
        do { return try await ec2.describeVolumes(ids: [id]).first } catch let e as AWSError where e.isNotFound {
            return nil
        }
    }

    public func runInstances(_ request: RunInstancesRequest) async throws -> Instance {
        try await ec2.runInstances(request)
    }
    public func stopInstance(_ id: String) async throws { _ = try await ec2.stopInstances(ids: [id]) }
    public func startInstance(_ id: String) async throws { _ = try await ec2.startInstances(ids: [id]) }

    public func terminateInstance(_ id: String) async throws {
        do { _ = try await ec2.terminateInstances(ids: [id]) } catch let e as AWSError where e.isNotFound {}
    }

    public func attachVolume(_ volumeID: String, to instanceID: String, device: String) async throws {
        _ = try await ec2.attachVolume(volumeId: volumeID, instanceId: instanceID, device: device)
    }

    public func detachVolume(_ volumeID: String, from instanceID: String) async throws {
        _ = try await ec2.detachVolume(volumeId: volumeID, instanceId: instanceID)
    }

    public func forceDetachVolume(_ volumeID: String, from instanceID: String) async throws {
        _ = try await ec2.detachVolume(volumeId: volumeID, instanceId: instanceID, force: true)
    }

    public func setDeleteOnTermination(_ value: Bool, instanceID: String, device: String) async throws {
        try await ec2.setDeleteOnTermination(instanceId: instanceID, device: device, value)
    }

    public func createTags(_ resource: String, _ tags: [Tag]) async throws {
        try await ec2.createTags(resources: [resource], tags: tags)
    }
    public func deleteTags(_ resource: String, keys: [String]) async throws {
        try await ec2.deleteTags(resources: [resource], keys: keys)
    }

    public func snapshot(run runID: String) async throws -> String? {
        try await ec2.describeSnapshots(filters: [EC2Filter("tag:\(RunTags.run)", [runID])]).first?.snapshotId
    }

    public func createSnapshot(volumeID: String, description: String, tags: [Tag]) async throws -> String {
        try await ec2.createSnapshot(volumeId: volumeID, description: description, tags: tags).snapshotId
    }

    public func deleteSnapshot(_ id: String) async throws { try await ec2.deleteSnapshot(id: id) }

    public func securityGroup(named name: String) async throws -> String? {
        try await ec2.describeSecurityGroups(filters: [EC2Filter("group-name", [name])]).first?.groupId
    }

    public func createSecurityGroup(name: String, description: String, vpcID: String?, tags: [Tag]) async throws
        -> String
    {
        try await ec2.createSecurityGroup(name: name, description: description, vpcId: vpcID, tags: tags)
    }

    public func deleteSecurityGroup(_ id: String) async throws { try await ec2.deleteSecurityGroup(id: id) }
    /// The latest console output where the type offers it: `Latest` is for Nitro types only
    /// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetConsoleOutput.html), and
    /// a Xen type answers UnsupportedOperation; then the buffered output, as EC2 keeps it.
    public func consoleOutput(_ instanceID: String) async throws -> String {
        do { return try await ec2.getConsoleOutput(instanceId: instanceID, latest: true) } catch let e as AWSError
            where e.code == "UnsupportedOperation"
        {
            return try await ec2.getConsoleOutput(instanceId: instanceID, latest: false)
        }
    }

    public func prepareBucket(_ bucket: String, expirePrefix prefix: String, days: Int) async throws {
        do { try await aws.s3.createBucket(bucket) } catch let e as AWSError where e.isBucketAlreadyOwned {}
        try await aws.s3.putPublicAccessBlock(bucket)
        try await aws.s3.putExpiryRule(bucket, id: "keyrescue-expire", prefix: prefix, days: days)
    }

    public func putObject(_ bucket: String, key: String, body: Data) async throws {
        _ = try await aws.s3.putObject(bucket, key: key, body: body)
    }

    public func headObject(_ bucket: String, key: String) async throws -> S3ObjectHead? {
        try await aws.s3.headObject(bucket, key: key)
    }

    public func getObject(_ bucket: String, key: String) async throws -> Data? {
        do { return try await aws.s3.getObject(bucket, key: key) } catch let e as AWSError where e.isNoSuchKey {
            return nil
        }
    }

    public func deleteObject(_ bucket: String, key: String) async throws {
        do { try await aws.s3.deleteObject(bucket, key: key) } catch let e as AWSError where e.isNoSuchKey {}
    }

    public func presign(_ method: String, bucket: String, key: String, expires: Int) async throws -> (
        url: URL, validUntil: Date
    ) {
        try await aws.s3.presigned(method: method, bucket: bucket, key: key, expires: expires)
    }
}
