import RescueModel

/// What the engine throws to its callers: what happened, where it left things, and what to do.
public struct RescueFailure: Error, CustomStringConvertible, Sendable {
    /// Where the run stands: the CLI's exit status follows from it.
    public enum Disposition: String, Sendable, Equatable {
        /// A rollback ran to its end: the instance is as it was (the snapshot kept).
        case rolledBack
        /// The journal and the tags say where everything is; `resume` or `rollback` finishes.
        case resumable
        /// Nothing was changed (e.g. the run had been rolled back already).
        case nothingChanged

        /// How the user reads it, first on the failure's `state:` line.
        public var words: String {
            switch self {
            case .rolledBack: "rolled back"
            case .resumable: "resumable"
            case .nothingChanged: "nothing changed"
            }
        }
    }

    public var runID: String
    public var message: String
    public var disposition: Disposition
    /// Where things are, in words ("the instance is as it was; snapshot snap-… kept").
    public var state: String
    /// What the user should do next; never empty.
    public var next: String

    public init(runID: String, message: String, disposition: Disposition, state: String, next: String) {
        self.runID = runID
        self.message = message
        self.disposition = disposition
        self.state = state
        self.next = next.isEmpty ? "run `keyrescue status \(runID)` to see where the run stands" : next
    }

    public var description: String { "\(message)\n  state: \(disposition.words) — \(state)\n  next: \(next)" }
}

/// The next step after an agent failure that came without a hint, from its code.
public enum AgentAdvice {
    public static func next(for failure: RescueReport.Failure) -> String {
        if !failure.hint.isEmpty { return failure.hint }
        switch failure.code {
        case .invalidJob, .invalidPublicKey: return "check the public key you passed, then run keyrescue reset again"
        case .volumeNotFound:
            return "the rescue host did not see the root volume; run keyrescue reset again (a new host is used)"
        case .noLinuxRoot, .multipleLinuxRoots, .corruptFilesystem, .mountFailed, .unsupported:
            return
                "inspect the root volume from the kept snapshot (keyrescue-agent probe on a volume made from it), or use `keyrescue-agent inject` by hand"
        case .noLoginUser, .userNotFound: return "name the login user with --user and run keyrescue reset again"
        case .homeNotOnDisk:
            return
                "the user's home is on another volume: attach that volume to a Linux host and run keyrescue-agent inject there"
        case .unsafePath:
            return
                "a symlinked or hard-linked home, .ssh or authorized_keys was refused; fix it from a volume made from the snapshot"
        case .writeFailed, .verifyFailed:
            return
                "the disk may be full or read-only; check it from a volume made from the snapshot, then run keyrescue reset again"
        case .agentDownloadFailed, .agentHashMismatch:
            return
                "the rescue host could not fetch the agent from S3: check the subnet's route to S3, then run keyrescue reset again"
        case .internalError, .unrecognized:
            return "run keyrescue reset again; if it fails the same way, report the agent's message"
        }
    }
}
