import ArgumentParser
import RescueController

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Same as reset --dry-run: preflight, plan and permission probes only.")
    @OptionGroup var options: ResetOptions
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        var options = options
        options.dryRun = true
        let command = ResetCommand(options: options, aws: aws)
        try await exitOnFailure(.beforeChange) { try await command.run() }
    }
}
