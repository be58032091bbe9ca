import AWSKit
@testable import RescueController
import Testing

/// The exit-code contract (README, "Exit codes"), error by error, through the one mapping.
@Suite struct ExitStatusTests {
    static func aws(_ code: String, status: Int = 400) -> AWSError {
        AWSError(code: code, message: "", httpStatus: status, service: "ec2", action: "DescribeInstances")
    }

    /// The engine's end of a run.
    static func failure(rolledBack: Bool, next: String = "fix it") -> RescueFailure {
        RescueFailure(
            runID: "kr-1", message: "the agent failed", disposition: rolledBack ? .rolledBack : .resumable,
            state: rolledBack ? "as it was" : "detached", next: next)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var error: any Error & Sendable
        var phase: Exit.Phase = .beforeChange
        var status: Exit
        var testDescription: String { name }
    }

    static let table: [Row] = [
        Row(
            name: "a rollback that ran to its end", error: failure(rolledBack: true), phase: .runStarted,
            status: .failedRolledBack),
        Row(name: "a run left resumable", error: failure(rolledBack: false), phase: .runStarted, status: .resumable),
        Row(
            name: "an unreadable key file", error: ControllerError.badInput("cannot read k: No such file", next: "x"),
            status: .badInput),
        Row(
            name: "no credentials anywhere", error: AWSError.noCredentials(looked: ["the environment"]),
            status: .badInput),
        Row(name: "a broken configuration", error: AWSError.configuration("profile x not found"), status: .badInput),
        Row(name: "credentials AWS rejects", error: aws("InvalidClientTokenId", status: 403), status: .badInput),
        Row(name: "an expired session", error: aws("ExpiredToken", status: 400), status: .badInput),
        Row(
            name: "an instance not in the region", error: ControllerError.instanceNotFound("i-1", region: "eu-west-1"),
            status: .badInput),
        Row(name: "an instance id EC2 calls unknown", error: aws("InvalidInstanceID.NotFound"), status: .badInput),
        Row(
            name: "a run known nowhere", error: ControllerError.runNotFound("kr-1", journal: "/j", region: "r"),
            status: .badInput),
        Row(name: "a preflight refusal", error: ControllerError.refused(["runs Windows"]), status: .refused),
        Row(
            name: "a key OpenSSL cannot make", error: ControllerError.cannotGenerateKey("no ed25519"), status: .refused),
        Row(name: "an unknown failure before any change", error: aws("InternalError", status: 500), status: .refused),
        Row(
            name: "warnings nobody could confirm", error: ControllerError.notConfirmed("1 warning", asked: false),
            status: .notConfirmed),
        Row(
            name: "warnings answered no", error: ControllerError.notConfirmed("2 warnings", asked: true),
            status: .notConfirmed),
        Row(
            name: "probes denied", error: ControllerError.permissionsMissing(["ec2:StopInstances"]),
            status: .permissionsMissing),
        Row(
            name: "a denial before any change", error: aws("UnauthorizedOperation", status: 403),
            status: .permissionsMissing),
        Row(
            name: "a denial during a run", error: aws("UnauthorizedOperation", status: 403), phase: .runStarted,
            status: .resumable),
        Row(
            name: "a run locked by another process",
            error: JournalError.locked("run kr-1 is being worked on by another keyrescue process on this machine"),
            phase: .runStarted,
            status: .resumable),
        Row(
            name: "a journal of a newer keyrescue", error: JournalError.version("kr-1.json is journal version 9"),
            status: .badInput),
        Row(
            name: "a run that must be rolled back", error: ControllerError.runNeedsRollback("kr-1", why: "x"),
            phase: .runStarted, status: .resumable),
        Row(
            name: "an unknown failure during a run", error: aws("InternalError", status: 500), phase: .runStarted,
            status: .resumable),
        Row(
            name: "a failed login check", error: ControllerError.loginFailed("Permission denied", command: "ssh a@b"),
            status: .loginFailed),
    ]

    @Test(arguments: table) func errorsMapToTheirStatus(_ row: Row) {
        #expect(Exit.of(row.error, phase: row.phase) == row.status)
    }

    @Test func theStatusesAreTheDocumentedNumbers() {
        #expect(Exit.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5, 6, 7, 64])
        for status in Exit.allCases where status != .rescued {
            #expect(Exit.table.contains("\(status.rawValue) "), "the help text names \(status.rawValue)")
        }
    }

    @Test(arguments: table) func everyMessageSaysWhatToDoNext(_ row: Row) throws {
        let text = Exit.explain(row.error, phase: row.phase)
        let next = try #require(text.components(separatedBy: "\n  next: ").last)
        #expect(text.contains("\n  next: ") && !next.trimmingCharacters(in: .whitespaces).isEmpty, "\(text)")
    }

    @Test func aRunLockedElsewhereSaysToWaitOrLook() {
        let text = Exit.explain(
            JournalError.locked("run kr-7 is being worked on by another keyrescue process on this machine"),
            phase: .runStarted)
        #expect(
            text.hasPrefix("run kr-7 is being worked on by another keyrescue") && text.contains("next: wait for it"))
        // The journal's own message, once it names the pid and the next step, is shown as it is.
        let told = "another keyrescue is working on kr-7 (pid 4242); wait for it or run `keyrescue status kr-7`"
        #expect(Exit.explain(JournalError.locked(told), phase: .runStarted) == told)
    }

    @Test func anAgentFailureWithoutAHintStillGetsANextStep() {
        for rolledBack in [true, false] {
            let text = Exit.explain(Self.failure(rolledBack: rolledBack, next: ""), phase: .runStarted)
            let next = text.components(separatedBy: "\n  next: ").dropFirst().first ?? ""
            #expect(next.contains("keyrescue"), "an empty hint still gets a command to run: \(text)")
        }
    }

    @Test func missingCredentialsSayWhereItLookedAndWhatToRun() {
        let text = Exit.explain(
            AWSError.noCredentials(looked: ["the environment", "~/.aws/credentials"]),
            phase: .beforeChange)
        #expect(text.contains("Looked in: the environment; ~/.aws/credentials"))
        #expect(text.contains("aws configure") && text.contains("aws sso login"))
    }

    @Test func anInstanceNotFoundHintsAtTheRegion() {
        let text = Exit.explain(
            ControllerError.instanceNotFound("i-9", region: "us-east-1", awsCode: "InvalidInstanceID.NotFound"),
            phase: .beforeChange)
        #expect(text.contains("not found in region us-east-1") && text.contains("--region"))
    }

    @Test func aFailedStepReadsAsItsReasonAlone() {
        let step = ControllerError("vol-1 did not attach (it is busy)")
        #expect("\(step)" == "vol-1 did not attach (it is busy)")
        #expect(step.exitStatus == .resumable)
    }
}

/// Testing has an ExitStatus of its own (exit tests).
typealias Exit = RescueController.ExitStatus
