import Foundation
import RescueController
import Testing

@Suite struct PreflightIAMPolicyTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theCheckedInPolicyIsTheGeneratorsOutputForAWS() throws {
        let file = try String(contentsOf: Self.repo.appendingPathComponent("deploy/iam-policy.json"), encoding: .utf8)
        #expect(file == IAMPolicy.document(for: .init()), "run `keyrescue iam-policy > deploy/iam-policy.json`")
    }

    @Test func theDocumentIsJSONThatIAMReads() throws {
        let data = Data(IAMPolicy.document(for: .init(bucket: "my-bucket")).utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(root["Version"] as? String == "2012-10-17")
        let statements = try #require(root["Statement"] as? [[String: Any]])
        #expect(statements.count == IAMPolicy.statements(for: .init(bucket: "my-bucket")).count)
        #expect(statements.allSatisfy { $0["Effect"] as? String == "Allow" && $0["Sid"] is String })
    }

    static let objectActions: Set = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]

    @Test(arguments: [nil, "my-bucket"]) func objectActionsOnlyUnderTheKeyrescuePrefix(_ bucket: String?) {
        for s in IAMPolicy.statements(for: .init(bucket: bucket)) where !objectActionsIn(s).isEmpty {
            #expect(s.resources.allSatisfy { $0.hasSuffix("/keyrescue/*") }, "\(s.sid): \(s.resources)")
        }
    }

    func objectActionsIn(_ s: IAMPolicy.Statement) -> Set<String> { Self.objectActions.intersection(s.actions) }

    @Test func aNamedBucketIsExactAndNotCreated() {
        let statements = IAMPolicy.statements(for: .init(bucket: "my-bucket"))
        let s3 = statements.filter { $0.actions.contains { $0.hasPrefix("s3:") } }
        #expect(!s3.isEmpty)
        for s in s3 {
            #expect(
                s.resources.allSatisfy { $0.hasPrefix("arn:aws:s3:::my-bucket") && !$0.contains("*/") },
                "\(s.resources)")
            #expect(!s.actions.contains("s3:CreateBucket"))
        }
    }

    @Test(arguments: IAMPolicy.Options.partitions) func everyARNIsInThePartition(_ partition: String) {
        for s in IAMPolicy.statements(for: .init(partition: partition)) {
            for arn in s.resources where arn != "*" { #expect(arn.hasPrefix("arn:\(partition):"), "\(arn)") }
        }
    }

    @Test func createGrantOnlyForAWSResources() throws {
        let statements = IAMPolicy.statements(for: .init())
        let grants = statements.filter { $0.actions.contains("kms:CreateGrant") }.map(\.conditions)
        #expect(
            grants == [
                [IAMPolicy.Condition("Bool", "kms:GrantIsForAWSResource", "true")],
                [IAMPolicy.Condition("ForAllValues:StringEquals", "kms:GrantOperations", "DescribeKey")],
            ], "no CreateGrant without a condition")
        let all = Set(statements.flatMap(\.actions))
        for action in [
            "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKeyWithoutPlaintext", "autoscaling:EnterStandby",
            "autoscaling:ExitStandby", "ec2:DescribeVpcEndpoints",
        ] {
            #expect(all.contains(action), "\(action)")
        }
    }
}
