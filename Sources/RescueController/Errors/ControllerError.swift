/// The controller's one error type: what happened, what to do next, and the exit status it
/// ends a command with (async-http-client's `HTTPClientError` idiom: a struct over a private
/// code, so new codes do not break callers). The CLI prints `description` and exits with
/// `exitStatus` through `ExitStatus.of(_:phase:)`.
public struct ControllerError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Code: Equatable, Sendable {
        case badInput, credentials, instanceNotFound, runNotFound
        case refused, notConfirmed, permissionsMissing
        case runNeedsRollback, stepFailed
        case keyGeneration, loginFailed
    }

    private let code: Code
    /// What happened.
    public let message: String
    /// What the user can do about it; never empty.
    public let next: String

    private init(_ code: Code, _ message: String, next: String) {
        self.code = code
        self.message = message
        self.next = next
    }

    /// A step of a rescue could not be done (the reason a `RescueFailure` carries). If one ever
    /// escapes a run, the run is left as it is: resumable.
    public init(_ message: String) {
        self.init(
            .stepFailed, message, next: "see where the run stands with `keyrescue runs` and `keyrescue status RUN`")
    }

    public var exitStatus: ExitStatus {
        switch code {
        case .badInput, .credentials, .instanceNotFound, .runNotFound: .badInput
        case .refused, .keyGeneration: .refused
        case .notConfirmed: .notConfirmed
        case .permissionsMissing: .permissionsMissing
        case .runNeedsRollback, .stepFailed: .resumable
        case .loginFailed: .loginFailed
        }
    }

    /// A failed step reads as its reason alone: it becomes part of a `RescueFailure`, which says
    /// what to do next for the whole run.
    public var description: String { code == .stepFailed ? message : "\(message)\n  next: \(next)" }

    // MARK: bad input (exit 2)

    /// A file, key or option the user gave cannot be used.
    public static func badInput(_ message: String, next: String) -> Self { Self(.badInput, message, next: next) }

    /// No usable credentials: `detail` says where the chain looked.
    public static func credentialsMissing(_ detail: String) -> Self {
        Self(
            .credentials, "no usable AWS credentials: \(detail)",
            next:
                "run `aws configure` (access keys) or `aws sso login --profile NAME` (SSO), or pass --profile; nothing was changed"
        )
    }

    /// AWS rejected the credentials (a wrong key, an expired session).
    public static func credentialsRejected(_ detail: String) -> Self {
        Self(
            .credentials, "AWS rejected the credentials: \(detail)",
            next:
                "check them with `aws sts get-caller-identity`; renew a session with `aws sso login` or `aws configure`; nothing was changed"
        )
    }

    public static func instanceNotFound(_ id: String, region: String, awsCode: String? = nil) -> Self {
        Self(
            .instanceNotFound, "instance \(id) is not found in region \(region)\(awsCode.map { " (\($0))" } ?? "")",
            next: "check the id, or pass --region with the region it runs in; nothing was changed")
    }

    public static func runNotFound(_ runID: String, journal: String, region: String) -> Self {
        Self(
            .runNotFound,
            "no run \(runID): not in \(journal) and no instance tagged keyrescue:run=\(runID) in \(region)",
            next: "list the runs with `keyrescue runs --region \(region)`, or pass --region where the run's instance is"
        )
    }

    // MARK: stopped before any change (exit 3, 4, 5)

    /// OpenSSL could not make the key pair `--generate-key` asked for.
    public static func cannotGenerateKey(_ why: String) -> Self {
        Self(
            .keyGeneration, "cannot generate an ed25519 key: \(why)",
            next: "make one with `ssh-keygen -t ed25519 -f PATH` and pass --public-key PATH.pub; nothing was changed")
    }

    public static func refused(_ reasons: [String]) -> Self {
        Self(
            .refused, "refused: \(reasons.joined(separator: "; "))",
            next: "see `what to do` under each refusal above; nothing was changed")
    }

    /// `why`: what needs the yes (SwapQuestion: the doors that did not serve, the warnings).
    public static func notConfirmed(_ why: String, asked: Bool) -> Self {
        asked
            ? Self(
                .notConfirmed, "not confirmed: \(why)",
                next: "nothing was changed; run again and answer y, or pass --yes")
            : Self(
                .notConfirmed, "confirmation needed: \(why)",
                next: "read the reasons, then pass --yes to go ahead; nothing was changed")
    }

    public static func permissionsMissing(_ actions: [String]) -> Self {
        Self(
            .permissionsMissing, "missing permissions: \(actions.joined(separator: ", "))",
            next:
                "grant the actions named above to your user or role (`keyrescue iam-policy` prints the least-privilege policy), or add the tag named above with --tag KEY=VALUE, then run again; nothing was changed"
        )
    }

    // MARK: a run that exists (exit 6)

    /// A run rebuilt from tags cannot go on without the key it was started with.
    public static func runNeedsRollback(_ runID: String, why: String) -> Self {
        Self(
            .runNeedsRollback, "run \(runID) cannot be resumed here: \(why)",
            next: "roll it back with `keyrescue rollback \(runID)`, then start again with `keyrescue reset`")
    }

    // MARK: after the rescue (exit 7)

    public static func loginFailed(_ detail: String, command: String) -> Self {
        Self(
            .loginFailed, "rescued, but the login check failed: \(detail)",
            next: "the key is in place; try `\(command)` yourself in a minute, or check the security group and sshd")
    }
}
