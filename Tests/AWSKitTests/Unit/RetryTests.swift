import Foundation
import Testing

@testable import AWSKit

@Suite struct RetryTests {
    let ok = StepTransport.xml(200, "<DescribeInstancesResponse><reservationSet/></DescribeInstancesResponse>")

    @Test(arguments: [
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown",
        "RequestThrottled", "EC2ThrottledException",
    ])
    func throttlingIsRetriedWithJitteredBackoff(code: String) async throws {
        let transport = StepTransport([
            StepTransport.ec2Error(code, status: 400), StepTransport.ec2Error(code, status: 400), ok,
        ])
        let clock = SteppedClock()
        let instances = try await scriptedClient(transport, clock: clock, random: 0.5).ec2.describeInstances()
        #expect(instances.isEmpty)
        #expect(transport.sent.count == 3)
        #expect(clock.sleeps == [0.5, 1.0], "random × 2^(attempt-1) seconds")
    }

    @Test(arguments: [500, 502, 503, 504])
    func serverErrorsAreRetried(status: Int) async throws {
        let transport = StepTransport([StepTransport.xml(status, "oops"), ok])
        _ = try await scriptedClient(transport).ec2.describeInstances()
        #expect(transport.sent.count == 2)
    }

    @Test func noCapacityIsLeftToTheCaller() async throws {
        let transport = StepTransport([StepTransport.ec2Error("InsufficientInstanceCapacity", status: 500), ok])
        let error = await #expect(throws: AWSError.self) {
            _ = try await scriptedClient(transport).ec2.startInstances(ids: ["i-1"])
        }
        #expect(error?.code == "InsufficientInstanceCapacity")
        #expect(transport.sent.count == 1, "a shortage lasts minutes: the caller backs off, not the transport")
    }

    @Test func givesUpAfterMaxAttemptsWithAClearError() async throws {
        let transport = StepTransport([], fallback: StepTransport.ec2Error("RequestLimitExceeded", status: 503))
        let error = await #expect(throws: AWSError.self) {
            _ = try await scriptedClient(transport, maxAttempts: 4).ec2.describeInstances()
        }
        #expect(transport.sent.count == 4)
        #expect(error?.attempts == 4)
        #expect(error.map(String.init(describing:))?.contains("after 4 attempts") == true)
        #expect(error.map(String.init(describing:))?.contains("throttling") == true)
    }

    @Test func connectionResetIsRetriedTimeoutCostsMore() async throws {
        let reset = AWSError.transport(.connectionReset, host: "h", detail: "reset", curlCode: 56)
        let transport = StepTransport([.fail(reset), ok])
        let client = scriptedClient(transport)
        _ = try await client.ec2.describeInstances()
        #expect(transport.sent.count == 2)
        #expect(client.ec2.client.quota.available == RetryQuota.initialTokens, "a success returns the retry's cost")
        let quota = RetryQuota()
        #expect(quota.acquire(timeout: true) == 10)
        #expect(quota.acquire(timeout: false) == 5)
        #expect(quota.available == 485)
    }

    @Test func nonIdempotentCallsRetryOnlyWithAClientToken() async throws {
        let throttled = StepTransport.ec2Error("RequestLimitExceeded", status: 503)
        let unavailable = StepTransport.ec2Error("Unavailable", status: 503)
        let withoutToken = StepTransport([unavailable, ok])
        await #expect(throws: AWSError.self) {
            _ = try await scriptedClient(withoutToken).ec2.createSnapshot(volumeId: "vol-1")
        }
        #expect(withoutToken.sent.count == 1, "a 503 may have created the snapshot: not sent again")
        // Throttling is a refusal before anything ran: safe to send again, token or not.
        let snapshot =
            "<CreateSnapshotResponse><snapshotId>snap-1</snapshotId><status>pending</status></CreateSnapshotResponse>"
        let refusedFirst = StepTransport([throttled, StepTransport.xml(200, snapshot)])
        #expect(try await scriptedClient(refusedFirst).ec2.createSnapshot(volumeId: "vol-1").snapshotId == "snap-1")
        #expect(refusedFirst.sent.count == 2)

        let instance =
            "<RunInstancesResponse><instancesSet><item><instanceId>i-9</instanceId><instanceState><name>pending</name></instanceState></item></instancesSet></RunInstancesResponse>"
        let withToken = StepTransport([throttled, StepTransport.xml(200, instance)])
        let launched = try await scriptedClient(withToken).ec2.runInstances(
            RunInstancesRequest(imageId: "ami-1", instanceType: "t3.micro", clientToken: "run-1"))
        #expect(launched.instanceId == "i-9")
        #expect(withToken.sent.count == 2)
        let bodies = withToken.sent.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies.allSatisfy { $0.contains("ClientToken=run-1") }, "the retry re-sends the same token")
    }

    @Test func emptyQuotaStopsRetries() async throws {
        let transport = StepTransport([], fallback: StepTransport.xml(503, ""))
        let client = scriptedClient(transport, maxAttempts: 3)
        while client.ec2.client.quota.acquire(timeout: false) != nil {}
        await #expect(throws: AWSError.self) { _ = try await client.ec2.describeInstances() }
        #expect(transport.sent.count == 1)
    }

    @Test func backoffIsCappedAndNeverNegative() {
        let policy = RetryPolicy(maxAttempts: 10, random: { 0.999 })
        #expect(policy.backoff(afterAttempt: 1) < 1)
        #expect(policy.backoff(afterAttempt: 8) == 20)
        #expect(RetryPolicy(random: { 0 }).backoff(afterAttempt: 3) == 0)
    }

    @Test func accessErrorsAndValidationAreNotRetried() {
        for code in ["UnauthorizedOperation", "InvalidParameterValue", "InvalidInstanceID.NotFound"] {
            let error = AWSError(code: code, message: "", httpStatus: 400, service: "ec2", action: "X")
            #expect(RetryClassifier.classify(error) == .doNotRetry)
        }
    }
}
