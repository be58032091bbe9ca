import ArgumentParser
import Foundation
import RescueController

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rescues known here or tagged in the account, with their state.")
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure(.beforeChange) {
            let journal = JournalStore(directory: JournalStore.defaultDirectory())
            let (local, unreadable) = Self.journals(journal)
            for r in local { say(r.listLine) }
            // A journal that cannot be read is listed with why, never skipped in silence.
            for (runID, why) in unreadable {
                say(
                    "\(runID)  journal unreadable: \(why)  (a newer keyrescue wrote it, or it is damaged; `keyrescue runs --region REGION` lists the run from its tags)"
                )
            }
            if aws.region != nil || aws.endpointURL != nil || ProcessInfo.processInfo.environment["AWS_REGION"] != nil {
                let client = try await aws.client()
                for (run, instance, step) in try await RunRecovery.inProgress(ec2: client.ec2)
                where !local.contains(where: { $0.runID == run }) {
                    say("\(run)  \(instance)  in progress (tags)  \(step)")
                }
            }
        }
    }

    /// Every journal on this workstation: the readable ones newest first, and why the others are not.
    static func journals(_ journal: JournalStore) -> (records: [RunRecord], unreadable: [(String, String)]) {
        var records: [RunRecord] = []
        var unreadable: [(String, String)] = []
        for entry in journal.entries() {
            switch entry {
            case .run(let record): records.append(record)
            case .unreadable(let runID, let why): unreadable.append((runID, why))
            }
        }
        return (records, unreadable)
    }
}
