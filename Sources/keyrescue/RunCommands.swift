import AWSKit
import ArgumentParser
import Foundation
import RescueController

/// Loads a run from this workstation's journal, else rebuilds it from the tags on its target.
func loadRun(_ runID: String, client: AWSClient) async throws -> RunRecord {
    let journal = JournalStore(directory: JournalStore.defaultDirectory())
    if let record = try journal.load(runID) { return record }
    if let record = try await RunRecovery.fromTags(runID: runID, ec2: client.ec2, region: client.region) { return record }
    throw Fail("no run \(runID): not in \(journal.path(of: runID).path) and no instance tagged keyrescue:run=\(runID) in \(client.region)", code: 2)
}

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rescues known here or tagged in the account, with their state.")
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure {
            let local = JournalStore(directory: JournalStore.defaultDirectory()).list()
            for r in local {
                say("\(r.runID)  \(r.plan.target.instanceID)  \(r.status.rawValue)  step \(r.step.rawValue)  \(r.rootVolumeWhere)")
            }
            if aws.region != nil || aws.endpointURL != nil || ProcessInfo.processInfo.environment["AWS_REGION"] != nil {
                let client = try await aws.client()
                for (run, instance, step) in try await RunRecovery.inProgress(ec2: client.ec2) where !local.contains(where: { $0.runID == run }) {
                    say("\(run)  \(instance)  in progress (tags)  step \(step)")
                }
            }
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Where a run is: its step, the root volume, what was created.")
    @Argument var runID: String
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure {
            let journal = JournalStore(directory: JournalStore.defaultDirectory())
            let record: RunRecord
            if let local = try journal.load(runID) { record = local } else { record = try await loadRun(runID, client: try await aws.client()) }
            say("""
                run \(record.runID): \(record.status.rawValue), last step done: \(record.step.rawValue)
                  instance:    \(record.plan.target.instanceID) (was \(record.plan.target.originalState))
                  root volume: \(record.plan.target.rootVolumeID), \(record.rootVolumeWhere)
                  snapshot:    \(record.snapshotID ?? "none")
                  rescue host: \(record.rescueInstanceID ?? "none")
                """)
            if let error = record.lastError { say("  last error:  \(error)") }
            for line in record.history.suffix(12) { say("  | \(line)") }
        }
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Finish an interrupted rescue.")
    @Argument var runID: String
    @OptionGroup var aws: AWSOptions
    @Flag(help: "One JSON event per line on stdout.") var json = false

    func run() async throws {
        try await exitOnFailure {
            let client = try await aws.client()
            let record = try await loadRun(runID, client: client)
            guard !record.plan.keys.publicKeys.isEmpty || record.step >= .attachedToRescue else {
                throw Fail("run \(runID) was started on another workstation before the agent had its job; roll it back with `keyrescue rollback \(runID)` and start again", code: 2)
            }
            let out = ProgressRenderer.forStdout(json: json)
            let engine = RescueEngine(
                aws: client, journal: JournalStore(directory: JournalStore.defaultDirectory()), environment: engineEnvironment(),
                events: { out.handle($0) })
            let outcome = try await engine.resume(record)
            try await Summary.finish(outcome, plan: record.plan, client: client, out: out)
        }
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Undo an interrupted rescue: root volume back, instance as it was.")
    @Argument var runID: String
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure {
            let client = try await aws.client()
            let record = try await loadRun(runID, client: client)
            let out = ProgressRenderer.forStdout(json: false)
            let engine = RescueEngine(aws: client, journal: JournalStore(directory: JournalStore.defaultDirectory()), events: { out.handle($0) })
            let done = try await engine.rollback(record)
            say("run \(runID) rolled back: \(done.rootVolumeWhere); snapshot \(done.snapshotID ?? "none") kept")
        }
    }
}

struct Cleanup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove leftovers of runs no longer in progress: rescue instances and security groups tagged keyrescue:run, S3 objects under keyrescue/RUN/.")
    @Option(name: .customLong("older-than"), help: "Only leftovers older than this (e.g. 1d, 12h, 30m).") var olderThan: String = "1d"
    @Option(help: "The bucket the rescues used, if not the default keyrescue-ACCOUNT-REGION.") var bucket: String?
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure {
            guard let age = Self.seconds(olderThan) else { throw ValidationError("--older-than takes a number with d, h or m") }
            let client = try await aws.client()
            let active = Set(try await RunRecovery.inProgress(ec2: client.ec2).map(\.runID))
            let journal = JournalStore(directory: JournalStore.defaultDirectory())
            let cutoff = Date().addingTimeInterval(-age)
            let hosts = try await client.ec2.describeInstances(filters: [EC2Filter("tag-key", [RunTags.run]), EC2Filter("instance-state-name", ["pending", "running", "stopping", "stopped"])])
            var removed = 0
            for host in hosts {
                guard let run = host.tags.first(where: { $0.key == RunTags.run })?.value, !active.contains(run),
                    host.tags.contains(where: { $0.key == "Name" && $0.value.hasPrefix("keyrescue-rescue-") }),
                    (try? journal.load(run))?.updatedAt ?? .distantPast < cutoff
                else { continue }
                _ = try await client.ec2.terminateInstances(ids: [host.instanceId])
                say("terminated rescue host \(host.instanceId) (run \(run))")
                removed += 1
            }
            let groups = try await client.ec2.describeSecurityGroups(filters: [EC2Filter("tag-key", [RunTags.run])])
            for group in groups where group.groupName.hasPrefix("keyrescue-") && !active.contains(String(group.groupName.dropFirst("keyrescue-".count))) {
                do {
                    try await client.ec2.deleteSecurityGroup(id: group.groupId)
                    say("deleted security group \(group.groupId) (\(group.groupName))")
                    removed += 1
                } catch {
                    say("kept security group \(group.groupId): \(error) (still in use? run cleanup again later)")
                }
            }
            removed += try await removeObjects(client, active: active, cutoff: cutoff)
            say("\(removed) leftover(s) removed")
        }
    }

    func removeObjects(_ client: AWSClient, active: Set<String>, cutoff: Date) async throws -> Int {
        var name = bucket
        if name == nil { name = "keyrescue-\(try await client.sts.getCallerIdentity().account)-\(client.region)" }
        guard let name else { return 0 }
        let objects: [S3Object]
        do {
            objects = try await client.s3.listObjects(name, prefix: "keyrescue/")
        } catch let e as AWSError where e.code == "NoSuchBucket" {
            return 0
        }
        let doomed = Leftovers.objectsToDelete(objects, activeRuns: active, before: cutoff)
        for object in doomed {
            try await client.s3.deleteObject(name, key: object.key)
            say("deleted s3://\(name)/\(object.key)")
        }
        return doomed.count
    }

    static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let n = Double(text.dropLast()) else { return nil }
        switch unit {
        case "d": return n * 86400
        case "h": return n * 3600
        case "m": return n * 60
        default: return nil
        }
    }
}
