import AWSKit
import Foundation
import Synchronization
import Testing

@testable import RescueController

/// The SSM door with a fake Systems Manager and a fake clock: report, fall-through, cancel on timeout.
@Suite struct SSMRouteTests {
    final class FakeSSM: SSMCommands {
        let calls = Mutex<[String]>([])
        let answers: [SSMClient.Invocation]
        let sendError: AWSError?
        init(_ answers: [SSMClient.Invocation], sendError: AWSError? = nil) {
            self.answers = answers
            self.sendError = sendError
        }
        func runShellScript(instanceId: String, commands: [String], timeoutSeconds: Int, comment: String) async throws
            -> String
        {
            calls.withLock { $0.append("send \(instanceId) \(timeoutSeconds)") }
            if let sendError { throw sendError }
            #expect(commands.contains { $0.contains("https://agent.example/a") })
            #expect(commands.last?.contains("inject --root / --json") == true)
            return "cmd-1"
        }
        func commandInvocation(commandId: String, instanceId: String) async throws -> SSMClient.Invocation {
            let n = calls.withLock { calls in
                calls.append("get")
                return calls.filter { $0 == "get" }.count
            }
            return answers[min(n, answers.count) - 1]
        }
        func cancelCommand(commandId: String, instanceId: String) async throws {
            calls.withLock { $0.append("cancel \(commandId)") }
        }
        var all: [String] { calls.withLock { $0 } }
    }

    final class Clock: Sendable {
        let seconds = Mutex<Double>(0)
        var now: Date { Date(timeIntervalSince1970: seconds.withLock { $0 }) }
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
    }

    static let report =
        #"{"version":1,"ok":true,"user":"ec2-user","keyFingerprint":"SHA256:new","hostKeys":[{"type":"ssh-ed25519","base64":"AAAA","fingerprint":"SHA256:h"}],"warnings":[],"alreadyPresent":false,"dryRun":false,"agentVersion":"t","durations":[]}"#

    func route(_ ssm: FakeSSM, timeout: Int = 90) -> SSMRoute {
        let clock = Clock()
        var route = SSMRoute(
            ssm: ssm, agentURL: { _, _ in URL(string: "https://agent.example/a") ?? URL(fileURLWithPath: "/") },
            timeoutSeconds: timeout)
        route.sleep = { clock.advance($0) }
        route.now = { clock.now }
        return route
    }

    @Test func aSuccessfulCommandGivesTheAgentsReportWithoutDowntime() async throws {
        let ssm = FakeSSM([
            .init(status: "InProgress"), .init(status: "Success", responseCode: 0, standardOutput: Self.report + "\n"),
        ])
        let attempt = try await route(ssm).attempt(JournalTests.plan())
        guard case .done(let outcome) = attempt else {
            Issue.record("expected a rescue, got \(attempt)")
            return
        }
        #expect(outcome.route == .ssm && outcome.downtimeSeconds == 0 && outcome.snapshotID == nil)
        #expect(outcome.hostKeys == ["ssh-ed25519 AAAA"] && outcome.keyFingerprint == "SHA256:new")
        #expect(ssm.all == ["send i-1 150", "get", "get"])
    }

    @Test func aStalledCommandIsCancelledAndFallsThrough() async throws {
        let ssm = FakeSSM([.init(status: "InProgress")])
        let attempt = try await route(ssm, timeout: 10).attempt(JournalTests.plan())
        #expect(attempt == .fellThrough("the SSM command cmd-1 did not finish within 10 s; it was cancelled"))
        #expect(ssm.all.last == "cancel cmd-1")
        #expect(ssm.all.filter { $0 == "get" }.count == 5)
    }

    @Test func aMissingPermissionFallsThroughNamingIt() async throws {
        let denied = AWSError(
            code: "AccessDeniedException", message: "no", httpStatus: 400, service: "ssm", action: "SendCommand")
        let attempt = try await route(FakeSSM([], sendError: denied)).attempt(JournalTests.plan())
        #expect(attempt == .fellThrough("not open (permission ssm:SendCommand missing)"))
    }

    @Test func aScriptFailureBeforeTheAgentFallsThroughWithItsReason() async throws {
        let ssm = FakeSSM([
            .init(
                status: "Failed", responseCode: 92, standardError: "keyrescue: the agent does not match its SHA-256\n")
        ])
        let attempt = try await route(ssm).attempt(JournalTests.plan())
        #expect(
            attempt
                == .fellThrough(
                    "the SSM command ended Failed (exit 92) without a report: keyrescue: the agent does not match its SHA-256"
                ))
    }
}
