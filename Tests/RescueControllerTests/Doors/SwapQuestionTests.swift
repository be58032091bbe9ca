import Foundation
import Synchronization
import Testing

@testable import RescueController

/// The swap's confirmation after the doors: asked only when a door fell through or there are
/// warnings (unless --yes), and it says why, with the real warnings, never "0 warning(s)".
@Suite struct SwapQuestionTests {
    typealias Log = ResetFlowTests.Log
    static let shut = DoorSequence.DoorsShut(
        lines: [
            "route ssm fell through: the SSM command did not finish within 90 s; it was cancelled",
            "route instance-connect: not open: no address to reach it",
        ], tried: true)

    @Test func thePromptSaysTheDoorsFailedTheSwapStopsAndListsTheWarnings() {
        let question = SwapQuestion(instanceID: "i-1", warnings: [ResetFlowTests.warning], doors: Self.shut)
        #expect(question.needsAnswer)
        #expect(
            question.prompt == """
                No door worked, so the swap comes next: it stops i-1 and starts it again.
                  route ssm fell through: the SSM command did not finish within 90 s; it was cancelled
                  route instance-connect: not open: no address to reach it
                  warning: its IP changes
                Go ahead with the swap? [y/N] 
                """)
    }

    @Test func withoutATerminalTheErrorNamesTheDoorsNotZeroWarnings() {
        let error = SwapQuestion(instanceID: "i-1", warnings: [], doors: Self.shut).notConfirmed(asked: false)
        #expect(error.exitStatus == .notConfirmed)
        #expect(!error.message.contains("0 warning"))
        #expect(error.message.hasPrefix("confirmation needed: the swap would stop i-1 (route ssm fell through"))
        #expect(error.next.contains("pass --yes"))
        let refused = SwapQuestion(instanceID: "i-1", warnings: [ResetFlowTests.warning]).notConfirmed(asked: true)
        #expect(refused.message == "not confirmed: the swap would stop i-1 (warning: its IP changes)")
    }

    @Test func closedDoorsAloneAskNothing() {
        let closed = DoorSequence.DoorsShut(
            lines: ["route ssm: not open: not an online SSM managed node"], tried: false)
        #expect(!SwapQuestion(instanceID: "i-1", warnings: [], doors: closed).needsAnswer)
        #expect(SwapQuestion(instanceID: "i-1", warnings: [], doors: closed).reasons.isEmpty)
    }

    /// Through ResetFlow: SSM fell through, Instance Connect is closed, no warnings, no terminal.
    @Test func aFallThroughWithoutATerminalExitsFourSayingWhy() async {
        let log = Log()
        let question = Mutex<SwapQuestion?>(nil)
        let plan = JournalTests.plan()
        let facts = RouteJudgementTests.facts { $0.reachableAddress = nil }
        let stages = ResetFlow.Stages(
            loadKeys: { ResetFlowTests.keys }, preflight: { _ in PreflightResult(plan: plan, findings: []) },
            probePermissions: { _ in [] },
            confirm: { asked in
                question.withLock { $0 = asked }
                return .cannotAsk
            },
            execute: { _ in
                log.add("swap")
                return DoorFlowTests.outcome(plan, route: .swap)
            },
            checkLogin: { _, _ in LoginCheck(address: "", user: "", verified: "", command: "") })
        let doors = DoorSequence(
            method: .auto, judge: { _ in RouteJudgement.report(facts) },
            attempt: { route, _ in .fellThrough("\(route.rawValue) stalled") })
        let flow = ResetFlow(stages: stages, dryRun: false, acceptWarnings: false, doors: doors) { _ in }
        do {
            try await flow.run()
            Issue.record("a fall-through to the swap without a terminal must not go ahead")
        } catch let error as ControllerError {
            #expect(error.exitStatus == .notConfirmed)
            #expect(error.message.contains("route ssm fell through: ssm stalled"))
            #expect(error.message.contains("route instance-connect: not open"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(log.all.isEmpty)
        #expect(question.withLock { $0?.doors.tried } == true)
    }
}
