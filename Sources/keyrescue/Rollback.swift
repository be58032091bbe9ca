import ArgumentParser
import RescueController

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Undo an interrupted rescue: root volume back, instance as it was.")
    @Argument var runID: String
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure(.runStarted) {
            let client = try await aws.client()
            let record = try await loadRun(runID, client: client)
            if record.route != nil {
                say(try await ResetCommand.doorJournal(client).rollBack(record))
                return
            }
            let out = ProgressRenderer.forStdout(json: false)
            let engine = RescueEngine(
                aws: client, journal: JournalStore(directory: JournalStore.defaultDirectory()),
                events: { out.handle($0) })
            let done = try await engine.rollback(record)
            say("run \(runID) rolled back: \(done.rootVolumeWhere); snapshot \(done.snapshotID ?? "none") kept")
        }
    }
}
