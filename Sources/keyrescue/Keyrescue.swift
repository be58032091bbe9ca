import ArgumentParser
import Foundation
import RescueController
import RescueModel

@main
struct Keyrescue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyrescue",
        abstract: "Reset the SSH key of an EC2 instance whose private key is lost.",
        discussion: ExitStatus.table,
        version: KeyrescueVersion.current,
        subcommands: [
            Reset.self, Plan.self, Diagnose.self, Runs.self, Status.self, Resume.self, Rollback.self, Cleanup.self,
            IAMPolicyCommand.self,
        ])
}

extension AsyncParsableCommand {
    /// The one place an error becomes what the user reads and the exit status
    /// (`ExitStatus.of`); usage errors stay ArgumentParser's (64).
    func exitOnFailure(_ phase: ExitStatus.Phase, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("keyrescue: \(ExitStatus.explain(error, phase: phase))\n".utf8))
            throw ExitCode(ExitStatus.of(error, phase: phase).rawValue)
        }
    }
}

/// Unbuffered stdout, so plain lines and the progress renderer's lines keep their order.
func say(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
