import AWSKit
import Foundation
@testable import RescueController
import Synchronization
import Testing

/// ResetFlow's order and its ends, with every stage faked: each stage logs its name.
@Suite struct ResetFlowTests {
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static let warning = PlanFinding(.warning, code: "public-ip-changes", message: "its IP changes", hint: "fine")
    static let refusal = PlanFinding(.refusal, code: "windows", message: "runs Windows", hint: "use EC2Rescue")
    static let keys = ResetKeys(publicLine: "ssh-ed25519 AAAA k", privatePath: "/k")

    struct Fakes {
        var findings: [PlanFinding] = []
        var denied: [String] = []
        var answer: ResetFlow.Answer = .yes
        var loginFailure: String?
        var keysFail = false
        var dryRun = false
        var yes = false
    }

    func run(_ fakes: Fakes, _ log: Log) async throws {
        let plan = JournalTests.plan()
        let stages = ResetFlow.Stages(
            loadKeys: {
                log.add("keys")
                if fakes.keysFail {
                    throw ControllerError.badInput(
                        "cannot read k: No such file or directory", next: "pass --public-key")
                }
                return Self.keys
            },
            preflight: { keys in
                log.add("preflight \(keys.publicLine)")
                let refused = fakes.findings.contains { $0.severity == .refusal }
                return PreflightResult(plan: refused ? nil : plan, findings: fakes.findings)
            },
            probePermissions: { _ in
                log.add("probes"); return fakes.denied
            },
            confirm: { question in
                log.add("confirm \(question.warnings.count)"); return fakes.answer
            },
            execute: { plan in
                log.add("execute")
                return RescueOutcome(
                    runID: plan.runID, instanceID: plan.target.instanceID, user: "admin", address: nil,
                    keyFingerprint: "SHA256:x",
                    hostKeys: [], hostKeyFingerprints: [], snapshotID: "snap-1", downtimeSeconds: 60,
                    finalState: "running", warnings: [])
            },
            checkLogin: { _, _ in
                log.add("login")
                return LoginCheck(
                    address: "54.1.2.3", user: "admin", verified: "logged in", failure: fakes.loginFailure,
                    command: "ssh admin@54.1.2.3")
            })
        let flow = ResetFlow(stages: stages, dryRun: fakes.dryRun, acceptWarnings: fakes.yes) { output in
            switch output {
            case .finding(let f): log.add("show \(f.code)")
            case .plan: log.add("show plan")
            case .note(let line): log.add("note \(line.prefix(7))")
            case .routes: log.add("show routes")
            case .summary(let outcome, _): log.add("summary \(outcome.address ?? "nil")")
            }
        }
        try await flow.run()
    }

    func status(_ fakes: Fakes, _ log: Log = Log()) async -> Exit {
        do {
            try await run(fakes, log)
            return .rescued
        } catch {
            return Exit.of(error, phase: .beforeChange)
        }
    }

    @Test func aRescueRunsEveryStageInOrderAndFillsTheAddress() async throws {
        let log = Log()
        #expect(await status(Fakes(), log) == .rescued)
        #expect(
            log.all == [
                "keys", "preflight ssh-ed25519 AAAA k", "probes", "note run kr-", "execute", "login",
                "summary 54.1.2.3",
            ])
    }

    @Test func aKeyThatCannotBeReadStopsBeforePreflight() async {
        let log = Log()
        #expect(await status(Fakes(keysFail: true), log) == .badInput)
        #expect(log.all == ["keys"])
    }

    @Test func aRefusalShowsTheFindingsAndProbesNothing() async {
        let log = Log()
        #expect(await status(Fakes(findings: [Self.refusal, Self.warning]), log) == .refused)
        #expect(log.all == ["keys", "preflight ssh-ed25519 AAAA k", "show windows", "show public-ip-changes"])
    }

    @Test func deniedProbesEndWithExit5BeforeAnyQuestionOrChange() async {
        let log = Log()
        #expect(
            await status(Fakes(findings: [Self.warning], denied: ["ec2:StopInstances (UnauthorizedOperation)"]), log)
                == .permissionsMissing)
        #expect(!log.all.contains("execute") && !log.all.contains { $0.hasPrefix("confirm") })
    }

    @Test func aDryRunShowsThePlanAndChangesNothing() async {
        let log = Log()
        #expect(await status(Fakes(findings: [Self.warning], dryRun: true), log) == .rescued)
        #expect(
            log.all == [
                "keys", "preflight ssh-ed25519 AAAA k", "show public-ip-changes", "probes", "show plan", "note dry run",
            ])
    }

    @Test func aDryRunWithDeniedProbesStillShowsThePlan() async {
        let log = Log()
        #expect(await status(Fakes(denied: ["ec2:RunInstances"], dryRun: true), log) == .permissionsMissing)
        #expect(log.all.last == "show plan")
    }

    @Test(arguments: [(ResetFlow.Answer.no, Exit.notConfirmed), (.cannotAsk, .notConfirmed), (.yes, .rescued)])
    func warningsAreAskedAbout(_ answer: ResetFlow.Answer, _ expected: Exit) async {
        let log = Log()
        #expect(await status(Fakes(findings: [Self.warning], answer: answer), log) == expected)
        #expect(log.all.contains("confirm 1"))
        #expect(log.all.contains("execute") == (expected == .rescued))
    }

    @Test func yesSkipsTheQuestion() async {
        let log = Log()
        #expect(await status(Fakes(findings: [Self.warning], answer: .no, yes: true), log) == .rescued)
        #expect(!log.all.contains { $0.hasPrefix("confirm") })
    }

    @Test func noWarningsNoQuestion() async {
        let log = Log()
        #expect(await status(Fakes(answer: .no), log) == .rescued)
        #expect(!log.all.contains { $0.hasPrefix("confirm") })
    }

    @Test func aFailedLoginCheckShowsTheSummaryThenExits7() async {
        let log = Log()
        #expect(await status(Fakes(loginFailure: "ssh login failed: Permission denied"), log) == .loginFailed)
        #expect(log.all.suffix(2) == ["login", "summary 54.1.2.3"])
    }
}
