import AWSKit
import Foundation

/// The SSM calls the route makes, so fall-through and cancellation are tested with fakes.
public protocol SSMCommands: Sendable {
    func runShellScript(instanceId: String, commands: [String], timeoutSeconds: Int, comment: String) async throws
        -> String
    func commandInvocation(commandId: String, instanceId: String) async throws -> SSMClient.Invocation
    func cancelCommand(commandId: String, instanceId: String) async throws
}

extension SSMClient: SSMCommands {}

/// The SSM door: AWS-RunShellScript fetches the agent from a presigned URL, checks it and runs
/// `inject --root /`; the report comes back in the command's output. No stop, no snapshot.
public struct SSMRoute: Sendable {
    public var ssm: any SSMCommands
    /// Puts the agent where the instance can fetch it and returns a presigned GET URL.
    public var agentURL: @Sendable (RescuePlan, _ validSeconds: Int) async throws -> URL
    /// `--route-timeout`: the whole route, from SendCommand to the report.
    public var timeoutSeconds: Int
    public var pollSeconds: Double = 2
    /// The command's own execution timeout is longer than the route's, so keyrescue's
    /// CancelCommand, not SSM's TimedOut, ends a command that hangs.
    static let commandGrace = 60
    public var sleep: @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .seconds($0)) }
    public var now: @Sendable () -> Date = { Date() }

    public init(
        ssm: any SSMCommands, agentURL: @escaping @Sendable (RescuePlan, Int) async throws -> URL, timeoutSeconds: Int
    ) {
        self.ssm = ssm
        self.agentURL = agentURL
        self.timeoutSeconds = timeoutSeconds
    }

    public func attempt(_ plan: RescuePlan) async throws -> DoorAttempt {
        let instance = plan.target.instanceID
        let commandID: String
        do {
            let url = try await agentURL(plan, timeoutSeconds + 60)
            let commands = DoorAgentScript.ssmCommands(
                agentURL: url, agentSHA256: plan.delivery.agentSHA256, keys: plan.keys)
            commandID = try await ssm.runShellScript(
                instanceId: instance, commands: commands, timeoutSeconds: timeoutSeconds + Self.commandGrace,
                comment: "keyrescue \(plan.runID)")
        } catch let error as AWSError where error.isAccessDenied {
            return .fellThrough("not open (permission \(error.service):\(error.action) missing)")
        } catch let error as AWSError {
            return .fellThrough("SendCommand failed: \(error.code): \(error.message)")
        }
        let deadline = now().addingTimeInterval(Double(timeoutSeconds))
        while now() < deadline {
            try await sleep(pollSeconds)
            // Just after SendCommand the invocation may not exist yet (InvocationDoesNotExist): keep asking.
            guard let invocation = try? await ssm.commandInvocation(commandId: commandID, instanceId: instance),
                invocation.isFinished
            else { continue }
            return Self.judge(invocation, plan: plan)
        }
        try? await ssm.cancelCommand(commandId: commandID, instanceId: instance)
        return .fellThrough("the SSM command \(commandID) did not finish within \(timeoutSeconds) s; it was cancelled")
    }

    /// A finished command: the agent's report when it ran, else why it fell through. The script's
    /// own failures (fetch, unpack, checksum) happen before the agent touches anything.
    static func judge(_ invocation: SSMClient.Invocation, plan: RescuePlan) -> DoorAttempt {
        if let ended = DoorAgentScript.attempt(fromOutput: invocation.standardOutput, plan: plan, route: .ssm) {
            return ended
        }
        let stderr = invocation.standardError.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        return .fellThrough(
            "the SSM command ended \(invocation.status) (exit \(invocation.responseCode)) without a report\(stderr.isEmpty ? "" : ": \(stderr)")"
        )
    }
}
