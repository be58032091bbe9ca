import AWSKit
import Foundation

/// The exit statuses of `keyrescue` (README, docs/CONTROLLER.md). `of(_:phase:)` is the one
/// place that maps an error to its status.
public enum ExitStatus: Int32, CaseIterable, Sendable {
    /// Rescued; for `plan`: the rescue could go ahead.
    case rescued = 0
    /// Failed, and a rollback ran to its end: the instance is as it was.
    case failedRolledBack = 1
    /// Bad input: a key, a file, credentials missing or rejected, an instance not in the region.
    case badInput = 2
    /// Refused by preflight, or stopped before changing anything.
    case refused = 3
    /// Warnings not confirmed (`--yes`).
    case notConfirmed = 4
    /// Permissions missing, found before any change.
    case permissionsMissing = 5
    /// Failed and resumable: `keyrescue status RUN`, then `resume` or `rollback`.
    case resumable = 6
    /// Rescued, but the login check failed.
    case loginFailed = 7
    /// Bad arguments (ArgumentParser's usage error).
    case usage = 64

    /// Whether a rescue run had begun changing things when the error came: an unknown error
    /// before is "nothing changed" (3), after it the run is left resumable (6).
    public enum Phase: Sendable { case beforeChange, runStarted }

    public static func of(_ error: any Error, phase: Phase) -> ExitStatus {
        switch error {
        case let error as ControllerError: return error.exitStatus
        case let failure as RescueFailure:
            switch failure.disposition {
            case .rolledBack: return .failedRolledBack
            case .resumable: return .resumable
            case .nothingChanged: return .refused
            }
        case let error as JournalError:
            switch error {
            case .locked: return .resumable
            case .version: return .badInput
            case .io: return phase == .beforeChange ? .refused : .resumable
            }
        case let error as AWSError where error.isCredentialFailure || error.isConfigurationFailure: return .badInput
        case let error as AWSError where error.rejectedTheCredentials || error.saysNoSuchInstance: return .badInput
        case let error as AWSError where error.isAccessDenied && phase == .beforeChange: return .permissionsMissing
        default: return phase == .beforeChange ? .refused : .resumable
        }
    }

    /// What the user reads: what happened, then what to do next (never an empty `next:`).
    public static func explain(_ error: any Error, phase: Phase) -> String {
        switch error {
        case let error as ControllerError: return error.description
        case var failure as RescueFailure:
            if failure.next.trimmingCharacters(in: .whitespaces).isEmpty {
                failure.next =
                    failure.disposition == .resumable
                    ? "see `keyrescue status \(failure.runID)`, then `keyrescue resume \(failure.runID)` or `keyrescue rollback \(failure.runID)`"
                    : "the instance is as it was; fix the cause above and run `keyrescue reset` again"
            }
            return failure.description
        case JournalError.locked(let message) where !message.contains("wait for it"):
            // A run another keyrescue process holds: its lock file names the run.
            return "\(message)\n  next: wait for it, or see where it stands with `keyrescue status RUN`"
        case JournalError.locked(let message): return message
        case let error as AWSError where error.isCredentialFailure || error.isConfigurationFailure:
            return "\(error)\n  next: \(error.next ?? "fix the AWS configuration above"); nothing was changed"
        case let error as AWSError where error.rejectedTheCredentials:
            return ControllerError.credentialsRejected("\(error)").description
        default:
            let next =
                phase == .beforeChange
                ? "nothing was changed; fix the cause above and run again"
                : "see where the run stands with `keyrescue runs` and `keyrescue status RUN`, then `keyrescue resume RUN` or `keyrescue rollback RUN`"
            return "\(error)\n  next: \(next)"
        }
    }

    public static let table = """
        Exit codes: 0 rescued (or: the plan could go ahead); 1 failed and rolled back; 2 bad input (key, \
        file, credentials, an instance not in the region); 3 refused by preflight, nothing changed; \
        4 warnings not confirmed (pass --yes); 5 permissions missing; 6 failed, resumable (see \
        `keyrescue status RUN`); 7 rescued but the login check failed; 64 bad arguments.
        """
}

extension AWSError {
    /// AWS did not accept the credentials themselves (no policy change fixes these).
    var rejectedTheCredentials: Bool {
        [
            "InvalidClientTokenId", "AuthFailure", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken",
            "RequestExpired", "UnrecognizedClientException", "ExpiredTokenException",
        ].contains(code)
    }

    var saysNoSuchInstance: Bool { code == "InvalidInstanceID.NotFound" || code == "InvalidInstanceID.Malformed" }
}
