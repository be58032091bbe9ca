import Foundation

/// The EC2 calls that change things.
extension EC2Client {
    static func ids(_ name: String, _ ids: [String], dryRun: Bool) -> QueryParameters {
        var params = QueryParameters()
        params.list(name, ids)
        if dryRun { params.set("DryRun", true) }
        return params
    }

    public func stopInstances(ids: [String], force: Bool = false, dryRun: Bool = false) async throws
        -> [InstanceStateChange]
    {
        var params = Self.ids("InstanceId", ids, dryRun: dryRun)
        if force { params.set("Force", true) }
        return try await call("StopInstances", params).items("instancesSet").map(InstanceStateChange.parse)
    }

    public func startInstances(ids: [String], dryRun: Bool = false) async throws -> [InstanceStateChange] {
        try await call("StartInstances", Self.ids("InstanceId", ids, dryRun: dryRun)).items("instancesSet").map(
            InstanceStateChange.parse)
    }

    public func terminateInstances(ids: [String], dryRun: Bool = false) async throws -> [InstanceStateChange] {
        try await call("TerminateInstances", Self.ids("InstanceId", ids, dryRun: dryRun)).items("instancesSet").map(
            InstanceStateChange.parse)
    }

    public func createSnapshot(volumeId: String, description: String? = nil, tags: [Tag] = [], dryRun: Bool = false)
        async throws -> Snapshot
    {
        var params = Self.ids("", [], dryRun: dryRun)
        params.set("VolumeId", volumeId)
        params.set("Description", description)
        params.tagSpecifications([("snapshot", tags)])
        // CreateSnapshot takes no client token: a retry could make a second snapshot, so none.
        return Snapshot.parse(try await call("CreateSnapshot", params, idempotency: .nonIdempotent(clientToken: nil)))
    }

    public func deleteSnapshot(id: String, dryRun: Bool = false) async throws {
        var params = Self.ids("", [], dryRun: dryRun)
        params.set("SnapshotId", id)
        _ = try await call("DeleteSnapshot", params)
    }

    public func attachVolume(volumeId: String, instanceId: String, device: String, dryRun: Bool = false) async throws
        -> VolumeAttachment
    {
        var params = Self.ids("", [], dryRun: dryRun)
        params.set("VolumeId", volumeId)
        params.set("InstanceId", instanceId)
        params.set("Device", device)
        return VolumeAttachment.parse(try await call("AttachVolume", params))
    }

    public func detachVolume(volumeId: String, instanceId: String? = nil, force: Bool = false, dryRun: Bool = false)
        async throws -> VolumeAttachment
    {
        var params = Self.ids("", [], dryRun: dryRun)
        params.set("VolumeId", volumeId)
        params.set("InstanceId", instanceId)
        if force { params.set("Force", true) }
        return VolumeAttachment.parse(try await call("DetachVolume", params))
    }

    /// Sets `DeleteOnTermination` of an attached volume (AttachVolume resets it to false).
    public func setDeleteOnTermination(instanceId: String, device: String, _ value: Bool, dryRun: Bool = false)
        async throws
    {
        var params = Self.ids("", [], dryRun: dryRun)
        params.set("InstanceId", instanceId)
        params.set("BlockDeviceMapping.1.DeviceName", device)
        params.set("BlockDeviceMapping.1.Ebs.DeleteOnTermination", value)
        _ = try await call("ModifyInstanceAttribute", params)
    }

    /// ModifyInstanceAttribute for one simple attribute (`DisableApiStop`, `InstanceInitiatedShutdownBehavior`).
    public func modifyInstanceAttribute(instanceId: String, attribute: String, value: String, dryRun: Bool = false)
        async throws
    {
        var params = Self.ids("", [], dryRun: dryRun)
        params.set("InstanceId", instanceId)
        params.set("\(attribute).Value", value)
        _ = try await call("ModifyInstanceAttribute", params)
    }

    public func createTags(resources: [String], tags: [Tag], dryRun: Bool = false) async throws {
        var params = Self.ids("ResourceId", resources, dryRun: dryRun)
        params.structures("Tag", tags) { params, prefix, tag in
            params.set("\(prefix).Key", tag.key)
            params.set("\(prefix).Value", tag.value)
        }
        _ = try await call("CreateTags", params)
    }

    /// Deletes tags by key (any value).
    public func deleteTags(resources: [String], keys: [String], dryRun: Bool = false) async throws {
        var params = Self.ids("ResourceId", resources, dryRun: dryRun)
        params.structures("Tag", keys) { params, prefix, key in params.set("\(prefix).Key", key) }
        _ = try await call("DeleteTags", params)
    }

    /// Returns the group id.
    public func createSecurityGroup(
        name: String, description: String, vpcId: String?, tags: [Tag] = [], dryRun: Bool = false
    ) async throws -> String {
        var params = Self.ids("", [], dryRun: dryRun)
        params.set("GroupName", name)
        params.set("GroupDescription", description)
        params.set("VpcId", vpcId)
        params.tagSpecifications([("security-group", tags)])
        return try await call("CreateSecurityGroup", params, idempotency: .nonIdempotent(clientToken: nil)).string(
            "groupId") ?? ""
    }

    public func deleteSecurityGroup(id: String, dryRun: Bool = false) async throws {
        var params = Self.ids("", [], dryRun: dryRun)
        params.set("GroupId", id)
        _ = try await call("DeleteSecurityGroup", params)
    }

    /// Runs a call with `DryRun=true`: `.granted` on `DryRunOperation`, `.denied` on
    /// `UnauthorizedOperation` (with the error, which names the IAM action); other errors throw.
    public func probePermission(_ call: () async throws -> Void) async throws -> PermissionProbe {
        do {
            try await call()
            return .granted  // some emulators ignore DryRun and just do it
        } catch let error as AWSError where error.isDryRunSuccess {
            return .granted
        } catch let error as AWSError where error.isAccessDenied {
            return .denied(error)
        }
    }
}

public enum PermissionProbe: Sendable, Equatable {
    case granted
    case denied(AWSError)
}

extension QueryParameters {
    /// `TagSpecification.N.ResourceType` and its `Tag.M.Key/Value`; empty tag lists are skipped.
    mutating func tagSpecifications(_ specs: [(resourceType: String, tags: [Tag])]) {
        let nonEmpty = specs.filter { !$0.tags.isEmpty }
        structures("TagSpecification", nonEmpty) { params, prefix, spec in
            params.set("\(prefix).ResourceType", spec.resourceType)
            params.structures("\(prefix).Tag", spec.tags) { params, tagPrefix, tag in
                params.set("\(tagPrefix).Key", tag.key)
                params.set("\(tagPrefix).Value", tag.value)
            }
        }
    }
}
