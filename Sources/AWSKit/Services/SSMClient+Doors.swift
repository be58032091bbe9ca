import Foundation

/// The SSM calls of the SSM route (shapes: botocore's ssm 2014-11-06 model).
extension SSMClient {
    public struct NodeInfo: Sendable, Equatable {
        /// `Online`, `ConnectionLost`, `Inactive`.
        public var pingStatus: String
        /// `Linux`, `Windows`, `MacOS`.
        public var platformType: String
    }

    /// The instance as a managed node, or nil when Systems Manager does not know it.
    public func instanceInformation(instanceId: String) async throws -> NodeInfo? {
        let filter: [String: any Sendable] = ["Key": "InstanceIds", "Values": [instanceId]]
        let answer = try await client.json(
            "DescribeInstanceInformation", targetPrefix: "AmazonSSM", ["Filters": [filter]])
        let list = answer["InstanceInformationList"] as? [[String: Any]] ?? []
        return list.first { $0["InstanceId"] as? String == instanceId }.map {
            NodeInfo(pingStatus: $0["PingStatus"] as? String ?? "", platformType: $0["PlatformType"] as? String ?? "")
        }
    }
}

extension SSMClient {
    /// Where one command stands on one instance (GetCommandInvocation).
    public struct Invocation: Sendable, Equatable {
        /// `Pending`, `InProgress`, `Delayed`, `Success`, `Cancelled`, `TimedOut`, `Failed`, `Cancelling`.
        public var status: String
        public var responseCode: Int
        public var standardOutput: String
        public var standardError: String

        public init(status: String, responseCode: Int = -1, standardOutput: String = "", standardError: String = "") {
            self.status = status
            self.responseCode = responseCode
            self.standardOutput = standardOutput
            self.standardError = standardError
        }

        public var isFinished: Bool { ["Success", "Cancelled", "TimedOut", "Failed"].contains(status) }
    }

    /// AWS-RunShellScript on one instance; returns the command id.
    public func runShellScript(instanceId: String, commands: [String], timeoutSeconds: Int, comment: String)
        async throws
        -> String
    {
        let parameters: [String: any Sendable] = ["commands": commands, "executionTimeout": [String(timeoutSeconds)]]
        let body: [String: any Sendable] = [
            "DocumentName": "AWS-RunShellScript", "InstanceIds": [instanceId], "Parameters": parameters,
            "TimeoutSeconds": max(30, timeoutSeconds), "Comment": String(comment.prefix(100)),
        ]
        let answer = try await client.json("SendCommand", targetPrefix: "AmazonSSM", body)
        guard let command = answer["Command"] as? [String: Any], let id = command["CommandId"] as? String else {
            throw AWSError(
                code: "MalformedResponse", message: "SendCommand answered without a command id", httpStatus: 200,
                service: "ssm", action: "SendCommand")
        }
        return id
    }

    public func commandInvocation(commandId: String, instanceId: String) async throws -> Invocation {
        let answer = try await client.json(
            "GetCommandInvocation", targetPrefix: "AmazonSSM", ["CommandId": commandId, "InstanceId": instanceId])
        return Invocation(
            status: answer["Status"] as? String ?? "", responseCode: answer["ResponseCode"] as? Int ?? -1,
            standardOutput: answer["StandardOutputContent"] as? String ?? "",
            standardError: answer["StandardErrorContent"] as? String ?? "")
    }

    public func cancelCommand(commandId: String, instanceId: String) async throws {
        _ = try await client.json(
            "CancelCommand", targetPrefix: "AmazonSSM", ["CommandId": commandId, "InstanceIds": [instanceId]])
    }
}
