import ArgumentParser
import RescueController

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Finish an interrupted rescue.")
    @Argument var runID: String
    @OptionGroup var aws: AWSOptions
    @Flag(help: "One JSON event per line on stdout.") var json = false

    func run() async throws {
        try await exitOnFailure(.runStarted) {
            let client = try await aws.client()
            let record = try await loadRun(runID, client: client)
            if let done = try DoorRunJournal.resumeOutcome(record) {
                say(done)
                return
            }
            guard !record.plan.keys.publicKeys.isEmpty || record.step >= .attachedToRescue else {
                throw ControllerError.runNeedsRollback(
                    runID,
                    why:
                        "it was started on another workstation before the agent had its job, and the tags do not hold the key"
                )
            }
            let out = ProgressRenderer.forStdout(json: json)
            let journal = JournalStore(directory: JournalStore.defaultDirectory())
            let engine = RescueEngine(
                aws: client, journal: journal, environment: engineEnvironment(), events: { out.handle($0) })
            var outcome = try await engine.resume(record)
            let check = await LoginCheck.run(
                outcome, plan: record.plan, ec2: client.ec2, knownHostsDirectory: journal.directory,
                events: { out.handle($0) })
            outcome.address = check.address
            ResetRenderer.summary(outcome, check, out)
            if let failure = check.failure { throw ControllerError.loginFailed(failure, command: check.command) }
        }
    }
}
