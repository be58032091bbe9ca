import ArgumentParser
import Foundation
import RescueController

@main
struct Keyrescue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyrescue",
        abstract: "Reset the SSH key of an EC2 instance whose private key is lost.",
        discussion: ExitStatus.table,
        subcommands: [Reset.self, Plan.self, Runs.self, Status.self, Resume.self, Rollback.self, Cleanup.self])
}

/// Documented exit codes (docs/CONTROLLER.md).
enum ExitStatus {
    static let rescued: Int32 = 0
    static let failedRolledBack: Int32 = 1
    static let refused: Int32 = 3
    static let needsConfirmation: Int32 = 4
    static let permissionsMissing: Int32 = 5
    static let resumable: Int32 = 6
    static let loginFailed: Int32 = 7

    static let table = """
        Exit codes: 0 rescued (or: the plan could go ahead); 1 failed and rolled back; 3 refused by \
        preflight; 4 warnings not confirmed (pass --yes); 5 permissions missing; 6 failed, resumable \
        (see `keyrescue status RUN`); 7 rescued but the login check failed; 64 bad arguments.
        """
}

struct Fail: Error, CustomStringConvertible {
    var description: String
    var code: Int32
    init(_ description: String, code: Int32 = 1) {
        self.description = description
        self.code = code
    }
}

extension AsyncParsableCommand {
    /// Prints the error the way every subcommand does and exits with its code.
    func exitOnFailure(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let fail as Fail {
            FileHandle.standardError.write(Data("keyrescue: \(fail.description)\n".utf8))
            throw ExitCode(fail.code)
        } catch let failure as RescueFailure {
            FileHandle.standardError.write(Data("keyrescue: \(failure.description)\n".utf8))
            throw ExitCode(failure.disposition == .rolledBack ? ExitStatus.failedRolledBack : ExitStatus.resumable)
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("keyrescue: \(error)\n".utf8))
            throw ExitCode(ExitStatus.failedRolledBack)
        }
    }
}

/// Unbuffered stdout, so plain lines and the progress renderer's lines keep their order.
func say(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
