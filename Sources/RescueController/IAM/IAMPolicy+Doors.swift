/// The IAM statements the door routes need, as groups of the policy generator (`keyrescue iam-policy`,
/// deploy/iam-policy.json): IAMPolicy.doors.
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
    public static func statements(osUsers: [String] = [], partition p: String = "aws") -> [IAMPolicy.Statement] {
        let users = Array(Set(osUsers)).sorted()
        return [
            IAMPolicy.Statement(
                "KeyrescueSSMRead", ["ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation"], on: ["*"]),
            IAMPolicy.Statement(
                "KeyrescueSSMRunShellScript", ["ssm:SendCommand"],
                on: ["arn:\(p):ssm:*::document/AWS-RunShellScript", "arn:\(p):ec2:*:*:instance/*"]),
            IAMPolicy.Statement("KeyrescueSSMCancel", ["ssm:CancelCommand"], on: ["*"]),
            IAMPolicy.Statement(
                "KeyrescueInstanceConnect", ["ec2-instance-connect:SendSSHPublicKey"],
                on: ["arn:\(p):ec2:*:*:instance/*"],
                when: users.isEmpty ? [] : [IAMPolicy.Condition("StringEquals", "ec2:osuser", values: users)]),
        ]
    }
}

extension IAMPolicy {
    /// The door routes' statements (DoorsIAM) for the options' partition.
    @Sendable static func doors(_ o: Options) -> [Statement] { DoorsIAM.statements(partition: o.partition) }
}
