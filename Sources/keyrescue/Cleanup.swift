import AWSKit
import ArgumentParser
import Foundation
import RescueController

struct Cleanup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Remove leftovers of runs no longer in progress: rescue instances and security groups tagged keyrescue:run, S3 objects under keyrescue/RUN/."
    )
    @Option(
        name: .customLong("older-than"), help: "Only leftovers of runs idle for longer than this (e.g. 1d, 12h, 30m).")
    var olderThan: String = "1d"
    @Option(help: "The bucket the rescues used, if not the default keyrescue-ACCOUNT-REGION.") var bucket: String?
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        guard CleanupPlan.seconds(olderThan) != nil else {
            throw ValidationError("--older-than takes a number with d, h or m (e.g. 12h)")
        }
    }

    func run() async throws {
        try await exitOnFailure(.beforeChange) {
            let age = CleanupPlan.seconds(olderThan) ?? 86400
            let client = try await aws.client()
            let bucket = try await bucketName(client)
            let plan = CleanupPlan.make(
                try await listing(client, bucket: bucket), before: Date().addingTimeInterval(-age))
            var removed = 0
            for host in plan.hosts {
                _ = try await client.ec2.terminateInstances(ids: [host])
                say("terminated rescue host \(host)")
                removed += 1
            }
            for group in plan.groups {
                do {
                    try await client.ec2.deleteSecurityGroup(id: group.groupId)
                    say("deleted security group \(group.groupId) (\(group.groupName))")
                    removed += 1
                } catch {
                    say(
                        "kept security group \(group.groupId): \(error) (still in use by a host that is shutting down? run cleanup again later)"
                    )
                }
            }
            for key in plan.objects {
                try await client.s3.deleteObject(bucket, key: key)
                say("deleted s3://\(bucket)/\(key)")
                removed += 1
            }
            say("\(removed) leftover(s) removed")
        }
    }

    func bucketName(_ client: AWSClient) async throws -> String {
        if let bucket { return bucket }
        return "keyrescue-\(try await client.sts.getCallerIdentity().account)-\(client.region)"
    }

    /// Everything the planner decides on: tagged hosts and groups, the bucket's objects, the
    /// runs in progress, and the journals this workstation can read.
    func listing(_ client: AWSClient, bucket: String) async throws -> CleanupPlan.Listing {
        var listing = CleanupPlan.Listing()
        listing.activeRuns = Set(try await RunRecovery.inProgress(ec2: client.ec2).map(\.runID))
        listing.hosts = try await client.ec2.describeInstances(filters: [
            EC2Filter("tag-key", [RunTags.run]),
            EC2Filter("instance-state-name", ["pending", "running", "stopping", "stopped"]),
        ])
        listing.groups = try await client.ec2.describeSecurityGroups(filters: [EC2Filter("tag-key", [RunTags.run])])
        do {
            listing.objects = try await client.s3.listObjects(bucket, prefix: "keyrescue/")
        } catch let error as AWSError where error.code == "NoSuchBucket" {
            listing.objects = []
        }
        let journal = JournalStore(directory: JournalStore.defaultDirectory())
        let runs = Set(
            listing.hosts.compactMap { $0.tags.first { $0.key == RunTags.run }?.value }
                + listing.groups.map { String($0.groupName.dropFirst("keyrescue-".count)) })
        for run in runs {
            if let record = try? journal.load(run) { listing.journalUpdated[run] = record.updatedAt }
        }
        return listing
    }
}
