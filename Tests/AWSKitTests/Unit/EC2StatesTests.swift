import Foundation
import Testing

@testable import AWSKit

@Suite struct EC2StatesTests {
    @Test(arguments: ["pending", "running", "shutting-down", "terminated", "stopping", "stopped"])
    func everyInstanceStateRoundTrips(word: String) {
        let state = InstanceState(rawValue: word)
        #expect(state.rawValue == word && "\(state)" == word)
        if case .unknown = state { Issue.record("\(word) is an EC2 state") }
    }

    @Test func aStateEC2AddsLaterIsKeptNotRefused() throws {
        #expect(InstanceState(rawValue: "hibernating") == .unknown("hibernating"))
        #expect(VolumeState(rawValue: "optimizing") == .unknown("optimizing"))
        let decoded = try JSONDecoder().decode([AttachmentState].self, from: Data(#"["busy","attached","new"]"#.utf8))
        #expect(decoded == [.busy, .attached, .unknown("new")])
        #expect(String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self) == #"["busy","attached","new"]"#)
    }

    @Test func volumeWordsMapToTheirCases() {
        #expect(VolumeState(rawValue: "in-use") == .inUse && VolumeState(rawValue: "available") == .available)
        #expect(
            InstanceState(rawValue: "shutting-down").isGone && InstanceState.terminated.isGone
                && !InstanceState.stopped.isGone)
    }

    static func error(_ code: String, status: Int = 400, service: String = "ec2") -> AWSError {
        AWSError(code: code, message: "", httpStatus: status, service: service, action: "X")
    }

    @Test func errorKindsAreNamedByPredicates() {
        #expect(Self.error("InvalidInstanceID.NotFound").isNotFound && Self.error("InvalidGroup.NotFound").isNotFound)
        #expect(Self.error("NoSuchKey", status: 404, service: "s3").isNoSuchKey)
        #expect(Self.error("NotFound", status: 404, service: "s3").isNoSuchKey, "HEAD answers only 404")
        #expect(!Self.error("NoSuchBucket", status: 404, service: "s3").isNoSuchKey)
        #expect(!Self.error("IncorrectState").isNotFound && Self.error("IncorrectState").isIncorrectState)
        #expect(Self.error("InvalidInstanceID.Malformed").isMalformedID)
        for code in [
            "InsufficientInstanceCapacity", "InsufficientCapacityOnHost", "InstanceLimitExceeded", "VcpuLimitExceeded",
        ] {
            #expect(Self.error(code, status: 500).isCapacity, "\(code)")
        }
        #expect(!Self.error("Unsupported").isCapacity)
        #expect(Self.error("RequestLimitExceeded", status: 503).isThrottle)
        #expect(Self.error("IdempotentParameterMismatch").isIdempotencyMismatch)
        #expect(Self.error("BucketAlreadyOwnedByYou", status: 409, service: "s3").isBucketAlreadyOwned)
    }
}
