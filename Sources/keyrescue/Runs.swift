import ArgumentParser
import Foundation
import RescueController

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rescues known here or tagged in the account, with their state.")
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure(.beforeChange) {
            let local = JournalStore(directory: JournalStore.defaultDirectory()).list()
            for r in local {
                say(
                    "\(r.runID)  \(r.plan.target.instanceID)  \(r.status.rawValue)  step \(r.step.rawValue)  \(r.rootVolumeWhere)"
                )
            }
            if aws.region != nil || aws.endpointURL != nil || ProcessInfo.processInfo.environment["AWS_REGION"] != nil {
                let client = try await aws.client()
                for (run, instance, step) in try await RunRecovery.inProgress(ec2: client.ec2)
                where !local.contains(where: { $0.runID == run }) {
                    say("\(run)  \(instance)  in progress (tags)  step \(step)")
                }
            }
        }
    }
}
