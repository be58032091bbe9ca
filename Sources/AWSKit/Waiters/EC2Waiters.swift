import Foundation

/// EC2 waiters transcribed from botocore's `ec2/2016-11-15/waiters-2.json` (acceptors in order,
/// delays and attempt limits as defaults). Tests check them against that file.
public enum EC2Waiters {
    static let instanceStates: @Sendable ([Instance]) -> [String] = { $0.map(\.state.rawValue) }
    static let instancePath = "Reservations[].Instances[].State.Name"
    static let volumeStates: @Sendable ([Volume]) -> [String] = { $0.map(\.state.rawValue) }
    static let snapshotStates: @Sendable ([Snapshot]) -> [String] = { $0.map(\.state) }

    static func instances(_ name: String, success: String, failures: [String], notFoundRetries: Bool) -> Waiter<
        [Instance]
    > {
        var acceptors: [Waiter<[Instance]>.Acceptor] = [
            .init(.success, .pathAll(argument: instancePath, expected: success, values: instanceStates))
        ]
        acceptors += failures.map {
            .init(.failure, .pathAny(argument: instancePath, expected: $0, values: instanceStates))
        }
        if notFoundRetries { acceptors.append(.init(.retry, .error(code: "InvalidInstanceID.NotFound"))) }
        return Waiter(name: name, delay: 15, maxAttempts: 40, acceptors: acceptors)
    }

    public static let instanceRunning = instances(
        "InstanceRunning", success: "running", failures: ["shutting-down", "terminated", "stopping"],
        notFoundRetries: true)
    public static let instanceStopped = instances(
        "InstanceStopped", success: "stopped", failures: ["pending", "terminated"], notFoundRetries: false)
    public static let instanceTerminated = instances(
        "InstanceTerminated", success: "terminated", failures: ["pending", "stopping"], notFoundRetries: false)

    public static let volumeAvailable = Waiter<[Volume]>(
        name: "VolumeAvailable", delay: 15, maxAttempts: 40,
        acceptors: [
            .init(.success, .pathAll(argument: "Volumes[].State", expected: "available", values: volumeStates)),
            .init(.failure, .pathAny(argument: "Volumes[].State", expected: "deleted", values: volumeStates)),
        ])
    public static let volumeInUse = Waiter<[Volume]>(
        name: "VolumeInUse", delay: 15, maxAttempts: 40,
        acceptors: [
            .init(.success, .pathAll(argument: "Volumes[].State", expected: "in-use", values: volumeStates)),
            .init(.failure, .pathAny(argument: "Volumes[].State", expected: "deleted", values: volumeStates)),
        ])
    public static let volumeDeleted = Waiter<[Volume]>(
        name: "VolumeDeleted", delay: 15, maxAttempts: 40,
        acceptors: [
            .init(.success, .pathAll(argument: "Volumes[].State", expected: "deleted", values: volumeStates)),
            .init(.success, .error(code: "InvalidVolume.NotFound")),
        ], outputWhenGone: [])
    public static let snapshotCompleted = Waiter<[Snapshot]>(
        name: "SnapshotCompleted", delay: 15, maxAttempts: 40,
        acceptors: [
            .init(.success, .pathAll(argument: "Snapshots[].State", expected: "completed", values: snapshotStates)),
            .init(.failure, .pathAny(argument: "Snapshots[].State", expected: "error", values: snapshotStates)),
        ])
}

extension EC2Client {
    /// Waits for instances with one of `EC2Waiters`' instance waiters.
    public func wait(
        _ waiter: Waiter<[Instance]>, instanceIds: [String], schedule: WaitSchedule = .botocore,
        progress: @Sendable (WaitProgress) -> Void = { _ in }
    ) async throws -> [Instance] {
        try await poll(waiter, schedule, progress, { "\($0.instanceId) \($0.state)" }) {
            try await describeInstances(ids: instanceIds)
        }
    }

    public func wait(
        _ waiter: Waiter<[Volume]>, volumeIds: [String], schedule: WaitSchedule = .botocore,
        progress: @Sendable (WaitProgress) -> Void = { _ in }
    ) async throws -> [Volume] {
        try await poll(waiter, schedule, progress, { "\($0.volumeId) \($0.state)" }) {
            try await describeVolumes(ids: volumeIds)
        }
    }

    public func wait(
        _ waiter: Waiter<[Snapshot]>, snapshotIds: [String], schedule: WaitSchedule = .botocore,
        progress: @Sendable (WaitProgress) -> Void = { _ in }
    ) async throws -> [Snapshot] {
        try await poll(waiter, schedule, progress, { "\($0.snapshotId) \($0.state)" }) {
            try await describeSnapshots(ids: snapshotIds)
        }
    }

    private func poll<T: Sendable>(
        _ waiter: Waiter<[T]>, _ schedule: WaitSchedule, _ progress: @Sendable (WaitProgress) -> Void,
        _ label: @escaping @Sendable (T) -> String, _ describe: @Sendable () async throws -> [T]
    ) async throws -> [T] {
        let logger = client.logger
        return try await waiter.wait(
            schedule: schedule, clock: client.clock, describe: { $0.map(label).joined(separator: ", ") },
            progress: { poll in
                logger.info("wait \(poll.waiter): \(poll.observed) after \(Int(poll.elapsed)) s (poll \(poll.attempt))")
                progress(poll)
            }, describe)
    }
}
