/// The rescue's own statements: what preflight reads, the surgery, S3 delivery, KMS for
/// customer-managed keys and Auto Scaling standby.
extension IAMPolicy {
    @Sendable static func reads(_ o: Options) -> [Statement] {
        [
            Statement(
                "ReadWhatPreflightAndTheStepsLookAt",
                [
                    "sts:GetCallerIdentity", "ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeSnapshots",
                    "ec2:DescribeInstanceAttribute", "ec2:DescribeSpotInstanceRequests", "ec2:DescribeAddresses",
                    "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints",
                    "ec2:DescribeVpcBlockPublicAccessOptions", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes", "ec2:GetConsoleOutput",
                    "kms:DescribeKey",
                    "sts:DecodeAuthorizationMessage",
                    // keyrescue diagnose and the door routes' judgement (the target's image, key pair,
                    // network ACLs and status checks).
                    "ec2:DescribeImages", "ec2:DescribeKeyPairs", "ec2:DescribeNetworkAcls",
                    "ec2:DescribeInstanceStatus",
                ], on: ["*"]),
            Statement(
                "FindTheRescueHostImage", ["ssm:GetParameter"],
                on: ["arn:\(o.partition):ssm:*::parameter/aws/service/ami-amazon-linux-latest/*"]),
        ]
    }

    @Sendable static func surgery(_ o: Options) -> [Statement] {
        let p = o.partition
        return [
            Statement(
                "TheSurgeryOnTheTarget",
                [
                    "ec2:StopInstances", "ec2:StartInstances", "ec2:DetachVolume", "ec2:AttachVolume",
                    "ec2:ModifyInstanceAttribute", "ec2:CreateSnapshot", "ec2:CreateTags", "ec2:DeleteTags",
                ],
                on: [
                    "arn:\(p):ec2:*:*:instance/*", "arn:\(p):ec2:*:*:volume/*", "arn:\(p):ec2:*:*:snapshot/*",
                    "arn:\(p):ec2:*:*:security-group/*",
                    // RunInstances tags the rescue host's interface on creation: that is CreateTags on it.
                    "arn:\(p):ec2:*:*:network-interface/*",
                ]),
            Statement("LaunchTheRescueHost", ["ec2:RunInstances", "ec2:CreateSecurityGroup"], on: ["*"]),
            Statement(
                "RemoveOnlyWhatARunCreated",
                ["ec2:TerminateInstances", "ec2:DeleteSecurityGroup", "ec2:DeleteSnapshot"],
                on: ["*"], when: [Condition("StringLike", "aws:ResourceTag/\(RunTags.run)", "kr-*")]),
        ]
    }

    /// Object actions only under `keyrescue/`: IAM's `*` matches `/`, so a bucket pattern alone
    /// (`keyrescue-*`) would also grant every object of every such bucket. With `--bucket` the
    /// bucket is named exactly (no wildcard before `/keyrescue/`) and not created.
    @Sendable static func s3(_ o: Options) -> [Statement] {
        let bucket = "arn:\(o.partition):s3:::\(o.bucket ?? "keyrescue-*")"
        var out: [Statement] = []
        if o.bucket == nil {
            out.append(
                Statement(
                    "CreateTheRunsBucket",
                    ["s3:CreateBucket", "s3:PutBucketPublicAccessBlock", "s3:PutLifecycleConfiguration"], on: [bucket]))
        }
        out.append(
            Statement(
                "DeliverTheAgentThroughS3", ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                on: ["\(bucket)/keyrescue/*"]))
        out.append(
            Statement(
                "CleanupListsOnlyTheRunsPrefix", ["s3:ListBucket"], on: [bucket],
                when: [Condition("StringLike", "s3:prefix", "keyrescue/*")]))
        return out
    }

    /// A root encrypted with a customer-managed key: EC2 creates grants and decrypts with the
    /// caller's permissions when it attaches or starts (EBS user guide, "Amazon EBS encryption",
    /// permissions for IAM users: kms:CreateGrant with kms:GrantIsForAWSResource, the others as
    /// ec2 uses them via kms:ViaService). Preflight's DryRun CreateGrant is a direct call, which
    /// that condition refuses: it asks for a DescribeKey-only grant, which the last statement allows
    /// and which would give nothing DescribeKey does not already.
    @Sendable static func kms(_ o: Options) -> [Statement] {
        let keys = ["arn:\(o.partition):kms:*:*:key/*"]
        return [
            Statement(
                "LetEC2UseCustomerManagedKeys", ["kms:CreateGrant"], on: keys,
                when: [Condition("Bool", "kms:GrantIsForAWSResource", "true")]),
            Statement(
                "LetEC2DecryptTheRoot", ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKeyWithoutPlaintext"],
                on: keys, when: [Condition("StringLike", "kms:ViaService", "ec2.*.amazonaws.com")]),
            Statement(
                "ProbeGrantsWithoutGrantingAnything", ["kms:CreateGrant"], on: keys,
                when: [Condition("ForAllValues:StringEquals", "kms:GrantOperations", "DescribeKey")]),
        ]
    }

    /// `--standby`: an InService Auto Scaling member leaves service for the rescue and returns.
    @Sendable static func autoScaling(_ o: Options) -> [Statement] {
        [
            Statement(
                "FindTheAutoScalingGroup",
                ["autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeAutoScalingGroups"], on: ["*"]),
            Statement(
                "StandbyForTheRescue", ["autoscaling:EnterStandby", "autoscaling:ExitStandby"],
                on: ["arn:\(o.partition):autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"]),
        ]
    }
}
