import AWSKit
import ArgumentParser
import RescueController

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Where a run is: its step, the root volume, what was created.")
    @Argument var runID: String
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure(.beforeChange) {
            let journal = JournalStore(directory: JournalStore.defaultDirectory())
            let record: RunRecord
            if let local = try journal.load(runID) {
                record = local
            } else {
                record = try await loadRun(runID, client: try await aws.client())
            }
            for line in record.statusLines { say(line) }
            if let error = record.lastError { say("  last error:  \(error)") }
            for line in record.history.suffix(12) { say("  | \(line)") }
        }
    }
}

/// Loads a run from this workstation's journal, else rebuilds it from the tags on its target.
func loadRun(_ runID: String, client: AWSClient) async throws -> RunRecord {
    let journal = JournalStore(directory: JournalStore.defaultDirectory())
    if let record = try journal.load(runID) { return record }
    if let record = try await RunRecovery.fromTags(runID: runID, ec2: client.ec2, region: client.region) {
        return record
    }
    throw ControllerError.runNotFound(runID, journal: journal.path(of: runID).path, region: client.region)
}
