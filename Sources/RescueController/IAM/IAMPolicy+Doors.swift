/// The IAM statements the door routes need, for the policy generator (`keyrescue iam-policy`,
/// deploy/iam-policy.json). Standalone until the generator lands: each statement encodes as an
/// IAM policy statement (Sid, Effect, Action, Resource, Condition).
public struct DoorStatement: Sendable, Codable, Equatable {
    public var sid: String
    public var effect: String = "Allow"
    public var actions: [String]
    public var resources: [String]
    public var condition: [String: [String: [String]]]?

    enum CodingKeys: String, CodingKey {
        case sid = "Sid", effect = "Effect", actions = "Action", resources = "Resource", condition = "Condition"
    }

    public init(sid: String, actions: [String], resources: [String], condition: [String: [String: [String]]]? = nil) {
        self.sid = sid
        self.actions = actions
        self.resources = resources
        self.condition = condition
    }
}

public enum DoorsIAM {
    /// The actions every door needs, by route, for the permission probes' messages.
    public static let actions: [RescueRoute: [String]] = [
        .ssm: ["ssm:DescribeInstanceInformation", "ssm:SendCommand", "ssm:GetCommandInvocation", "ssm:CancelCommand"],
        .instanceConnect: ["ec2-instance-connect:SendSSHPublicKey"],
    ]

    /// SendCommand is limited to the AWS-RunShellScript document and to instances; SendSSHPublicKey
    /// to the login users when they are known (`ec2:osuser`). Resource and condition keys: AWS,
    /// "Actions, resources, and condition keys for AWS Systems Manager" and "… for Amazon EC2
    /// Instance Connect" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html,
    /// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2instanceconnect.html).
    public static func statements(osUsers: [String] = []) -> [DoorStatement] {
        var connect = DoorStatement(
            sid: "KeyrescueInstanceConnect", actions: ["ec2-instance-connect:SendSSHPublicKey"],
            resources: ["arn:aws:ec2:*:*:instance/*"])
        let users = Array(Set(osUsers)).sorted()
        if !users.isEmpty { connect.condition = ["StringEquals": ["ec2:osuser": users]] }
        return [
            DoorStatement(
                sid: "KeyrescueSSMRead", actions: ["ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation"],
                resources: ["*"]),
            DoorStatement(
                sid: "KeyrescueSSMRunShellScript", actions: ["ssm:SendCommand"],
                resources: ["arn:aws:ssm:*::document/AWS-RunShellScript", "arn:aws:ec2:*:*:instance/*"]),
            DoorStatement(sid: "KeyrescueSSMCancel", actions: ["ssm:CancelCommand"], resources: ["*"]),
            connect,
        ]
    }
}

extension IAMPolicy {
    /// The door routes' statements (DoorsIAM) in the generator's form, for the options' partition.
    @Sendable static func doors(_ o: Options) -> [Statement] {
        DoorsIAM.statements().map { door in
            let conditions = (door.condition ?? [:]).sorted { $0.key < $1.key }.flatMap { test, keys in
                keys.sorted { $0.key < $1.key }.flatMap { key, values in values.map { Condition(test, key, $0) } }
            }
            return Statement(
                door.sid, door.actions,
                on: door.resources.map { $0.replacingOccurrences(of: "arn:aws:", with: "arn:\(o.partition):") },
                when: conditions)
        }
    }
}
