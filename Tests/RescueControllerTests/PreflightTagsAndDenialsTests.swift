import AWSKit
import Foundation
import RescueController
import Testing

@Suite struct PreflightTagsAndDenialsTests {
    @Test func tagsParseInOrder() throws {
        #expect(
            try UserTags.parse(["team=infra", "cost-center=", "a=b=c"]) == [
                Tag("team", "infra"), Tag("cost-center", ""), Tag("a", "b=c"),
            ])
        #expect(try UserTags.parse([]) == [])
    }

    @Test(arguments: ["noequals", "=value", "aws:x=1", "keyrescue:run=x", "Name=x"])
    func aBadTagSaysHowToWriteIt(_ argument: String) {
        #expect(throws: UserTags.Invalid.self) { try UserTags.parse([argument]) }
        let message = (try? UserTags.parse([argument])).map { _ in "" } ?? "\(error(argument))"
        #expect(message.contains("--tag"))
    }

    func error(_ argument: String) -> Error {
        do { _ = try UserTags.parse([argument]) } catch { return error }
        return CancellationError()
    }

    @Test func aKeyGivenTwiceIsRefused() {
        #expect(throws: UserTags.Invalid.self) { try UserTags.parse(["a=1", "a=2"]) }
    }

    static func unauthorized(_ payload: String?) -> AWSError {
        let encoded =
            payload.map { " Encoded authorization failure message: " + Data($0.utf8).base64EncodedString() } ?? ""
        return AWSError(
            code: "UnauthorizedOperation", message: "You are not authorized to perform this operation." + encoded,
            httpStatus: 403, service: "ec2", action: "RunInstances")
    }

    @Test func aDecodedDenialNamesTheMissingTag() {
        let decoded =
            #"{"allowed": false, "context": {"action": "ec2:RunInstances", "untaggedResourceTypes": ["instance", "volume"]}}"#
        let text = PermissionDenial.describe(
            action: "ec2:RunInstances", error: Self.unauthorized(decoded), decoded: decoded, tags: [])
        #expect(text.contains("a required tag is missing on instance, volume"))
        #expect(text.contains("--tag KEY=VALUE"))
    }

    @Test func anUndecodableDenialSaysHowToDecodeIt() {
        let text = PermissionDenial.describe(
            action: "ec2:RunInstances", error: Self.unauthorized("opaque"), decoded: nil, tags: [Tag("team", "x")])
        #expect(text.contains("sts decode-authorization-message") && text.contains("sts:DecodeAuthorizationMessage"))
        #expect(!text.contains("--tag"), "tags were given")
    }

    @Test func aPlainDenialIsTheActionAndCode() {
        #expect(
            PermissionDenial.describe(
                action: "ec2:StopInstances", error: Self.unauthorized(nil), decoded: nil, tags: [])
                == "ec2:StopInstances (UnauthorizedOperation)")
    }

    @Test func permissionsMissingPointsAtTheActionsAndTags() {
        let error = ControllerError.permissionsMissing(["ec2:RunInstances (UnauthorizedOperation)"])
        #expect(ExitStatus.of(error, phase: .beforeChange) == .permissionsMissing)
        #expect(error.next.contains("keyrescue iam-policy") && error.next.contains("--tag"))
    }
}

@Suite struct PreflightPlanDecodingTests {
    static let plan = RescuePlan(
        runID: "kr-1", region: "us-east-1",
        target: .init(
            instanceID: "i-1", availabilityZone: "us-east-1a", subnetID: "subnet-1", vpcID: "vpc-1",
            rootVolumeID: "vol-1", rootDeviceName: "/dev/xvda", rootDeleteOnTermination: true, originalState: .running),
        rescueHost: .init(imageID: "ami-1", instanceType: "t3.micro", subnetID: "subnet-1"),
        delivery: .init(bucket: "b", createBucket: true, prefix: "keyrescue/kr-1/", agentPath: "/a", agentSHA256: "00"),
        keys: .init(publicKeys: ["ssh-ed25519 AAAA"]))

    @Test func newFieldsRoundTrip() throws {
        var plan = Self.plan
        plan.tags = [Tag("team", "infra")]
        plan.standby = true
        plan.target.autoScalingGroupName = "web"
        plan.rescueHost.associatePublicIP = true
        plan.rescueHost.subnetReason = "why"
        let decoded = try JSONDecoder().decode(RescuePlan.self, from: JSONEncoder().encode(plan))
        #expect(decoded == plan)
    }

    @Test func aJournalWrittenBeforeTheNewFieldsStillLoads() throws {
        var object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.plan)) as? [String: Any])
        object["tags"] = nil
        object["standby"] = nil
        var host = try #require(object["rescueHost"] as? [String: Any])
        host["associatePublicIP"] = nil
        host["subnetReason"] = nil
        host["instanceTypes"] = nil
        object["rescueHost"] = host
        let old = try JSONSerialization.data(withJSONObject: object)
        let decoded = try JSONDecoder().decode(RescuePlan.self, from: old)
        #expect(decoded == Self.plan)
        #expect(decoded.tags.isEmpty && !decoded.standby && !decoded.rescueHost.associatePublicIP)
    }
}
