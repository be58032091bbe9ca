import Foundation
import Synchronization
import Testing

@testable import RescueController

/// The doors in front of the swap, every stage faked: which routes run, in which order, and when
/// the swap is confirmed.
@Suite struct DoorFlowTests {
    typealias Log = ResetFlowTests.Log

    static func outcome(_ plan: RescuePlan, route: RescueRoute) -> RescueOutcome {
        var outcome = RescueOutcome(
            runID: plan.runID, instanceID: plan.target.instanceID, user: "ec2-user", address: nil,
            keyFingerprint: "SHA256:x",
            hostKeys: [], hostKeyFingerprints: [], snapshotID: nil, downtimeSeconds: route == .swap ? 60 : 0,
            finalState: "running", warnings: [])
        outcome.route = route
        return outcome
    }

    /// Runs a reset whose routes are `facts`' and whose doors end as `doors` says (absent: done).
    func run(
        _ facts: RouteFacts, method: RescueMethod = .auto, doors: [RescueRoute: DoorAttempt.Kind] = [:],
        yes: Bool = false,
        answer: ResetFlow.Answer = .yes, log: Log
    ) async throws {
        let plan = JournalTests.plan()
        let stages = ResetFlow.Stages(
            loadKeys: { ResetFlowTests.keys },
            preflight: { _ in PreflightResult(plan: plan, findings: []) },
            probePermissions: { _ in [] },
            confirm: { _ in
                log.add("confirm")
                return answer
            },
            execute: { plan in
                log.add("swap")
                return Self.outcome(plan, route: .swap)
            },
            checkLogin: { outcome, _ in
                log.add("login")
                return LoginCheck(
                    address: "203.0.113.10", user: "ec2-user", verified: "logged in", failure: nil, command: "ssh")
            })
        let sequence = DoorSequence(
            method: method, judge: { _ in RouteJudgement.report(facts, method: method) },
            attempt: { route, plan in
                log.add(route.rawValue)
                return doors[route] == .fellThrough ? .fellThrough("stalled") : .done(Self.outcome(plan, route: route))
            })
        let flow = ResetFlow(stages: stages, dryRun: false, acceptWarnings: yes, doors: sequence) { output in
            if case .summary(let outcome, _) = output {
                log.add("summary \(outcome.route.rawValue) \(outcome.downtimeSeconds ?? -1)")
            }
        }
        try await flow.run()
    }

    @Test func anOpenSSMDoorRescuesWithoutStopOrQuestion() async throws {
        let log = Log()
        try await run(RouteJudgementTests.facts(), log: log)
        #expect(log.all == ["ssm", "login", "summary ssm 0.0"])
    }

    @Test func aFailedDoorFallsThroughToTheNext() async throws {
        let log = Log()
        try await run(RouteJudgementTests.facts(), doors: [.ssm: .fellThrough], log: log)
        #expect(log.all == ["ssm", "instance-connect", "login", "summary instance-connect 0.0"])
    }

    @Test func fallingThroughToTheSwapIsConfirmedUnlessYes() async throws {
        let log = Log()
        try await run(
            RouteJudgementTests.facts(), doors: [.ssm: .fellThrough, .instanceConnect: .fellThrough], log: log)
        #expect(log.all == ["ssm", "instance-connect", "confirm", "swap", "login", "summary swap 60.0"])
        let yes = Log()
        try await run(
            RouteJudgementTests.facts(), doors: [.ssm: .fellThrough, .instanceConnect: .fellThrough], yes: true,
            log: yes)
        #expect(!yes.all.contains("confirm"))
        let refused = Log()
        await #expect(throws: ControllerError.self) {
            try await run(
                RouteJudgementTests.facts(), doors: [.ssm: .fellThrough, .instanceConnect: .fellThrough], answer: .no,
                log: refused)
        }
        #expect(!refused.all.contains("swap"))
    }

    @Test func noOpenDoorGoesStraightToTheSwapWithoutAQuestion() async throws {
        let log = Log()
        try await run(
            RouteJudgementTests.facts {
                $0.ssm = .unknown; $0.image = RouteJudgementTests.debian
            }, log: log)
        #expect(log.all == ["swap", "login", "summary swap 60.0"])
    }

    @Test func aClosedMethodExitsThreeBeforeAnyChange() async throws {
        let log = Log()
        do {
            try await run(RouteJudgementTests.facts { $0.ssm = .unknown }, method: .ssm, log: log)
            Issue.record("--method ssm on an unmanaged instance must be refused")
        } catch let error as ControllerError {
            #expect(error.exitStatus == .refused)
            #expect(error.message.contains("not an online SSM managed node"))
        }
        #expect(log.all.isEmpty)
    }

    @Test func aNamedDoorThatFailsDoesNotFallToTheSwap() async throws {
        let log = Log()
        await #expect(throws: ControllerError.self) {
            try await run(RouteJudgementTests.facts(), method: .ssm, doors: [.ssm: .fellThrough], log: log)
        }
        #expect(log.all == ["ssm"])
    }
}

extension DoorAttempt {
    enum Kind { case fellThrough }
}
