import Foundation
import Testing

@testable import AWSKit

@Suite struct ErrorDecodingTests {
    @Test func ec2UnauthorizedNamesTheActionAndHowToDecode() async throws {
        let transport = StepTransport([
            StepTransport.ec2Error(
                "UnauthorizedOperation", status: 403,
                message:
                    "You are not authorized to perform this operation. Encoded authorization failure message: AbC123xyz"
            )
        ])
        let error = await #expect(throws: AWSError.self) {
            _ = try await scriptedClient(transport).ec2.stopInstances(ids: ["i-1"])
        }
        #expect(error?.code == "UnauthorizedOperation")
        #expect(error?.requestId == "req-1")
        #expect(error?.httpStatus == 403)
        #expect(error?.iamAction == "ec2:StopInstances")
        #expect(error?.encodedAuthorizationMessage == "AbC123xyz")
        let text = error.map(String.init(describing:)) ?? ""
        #expect(text.contains("ec2:StopInstances"))
        #expect(text.contains("aws sts decode-authorization-message"))
        #expect(transport.sent.count == 1, "an access error is not retried")
    }

    @Test func queryErrorResponse() {
        let body =
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r-9</RequestId></ErrorResponse>"
        let error = AWSErrorDecoder.decode(
            HTTPResponse(status: 403, body: Data(body.utf8)), service: "sts", action: "AssumeRole")
        #expect(error.code == "AccessDenied")
        #expect(error.message == "no")
        #expect(error.requestId == "r-9")
        #expect(error.isAccessDenied)
    }

    @Test func authFailureIsAboutCredentialsNotPermissions() {
        let error = AWSError(
            code: "AuthFailure", message: "AWS was not able to validate the provided access credentials",
            httpStatus: 401, service: "ec2", action: "CreateSnapshot")
        #expect(!error.isAccessDenied)
        #expect(!error.description.contains("IAM permission"))
        #expect(error.description.contains("Check your access key and secret"))
    }

    @Test func s3ErrorWithHeaderRequestId() {
        let body = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message><Key>a</Key></Error>"
        let response = HTTPResponse(
            status: 404, headers: [HTTPHeader("x-amz-request-id", "s3-1")], body: Data(body.utf8))
        let error = AWSErrorDecoder.decode(response, service: "s3", action: "GetObject")
        #expect(error.code == "NoSuchKey")
        #expect(error.requestId == "s3-1")
    }

    @Test func jsonErrorType() {
        let body = #"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"missing"}"#
        let response = HTTPResponse(
            status: 400, headers: [HTTPHeader("x-amzn-RequestId", "j-1")], body: Data(body.utf8))
        let error = AWSErrorDecoder.decode(response, service: "ssm", action: "GetParameter")
        #expect(error.code == "ParameterNotFound")
        #expect(error.message == "missing")
        #expect(error.requestId == "j-1")
    }

    @Test func bodilessErrorGetsACodeFromTheStatus() {
        let error = AWSErrorDecoder.decode(HTTPResponse(status: 404), service: "s3", action: "HeadObject")
        #expect(error.code == "NotFound")
    }

    @Test func transportErrorsSayWhatToDo() {
        let tls = AWSError.transport(.tls, host: "ec2.x", detail: "bad cert", curlCode: 60)
        #expect(!tls.isRetryableTransportFailure && tls.isTLSFailure && tls.curlCode == 60)
        #expect(tls.description.contains("AWS_CA_BUNDLE"))
        let reset = AWSError.transport(.connectionReset, host: "h", detail: "", curlCode: 56)
        #expect(reset.isRetryableTransportFailure && reset.isTransportFailure && !reset.isServiceAnswer)
        #expect(RetryClassifier.classify(reset) == .retry(timeout: false))
        #expect(RetryClassifier.classify(tls) == .doNotRetry)
    }

    /// Errors from this side of the wire ask no service predicate: a transport failure is not a
    /// NotFound, whatever callers' `catch let e as AWSError where e.isNotFound` would make of it.
    @Test func localErrorsAnswerNoServicePredicate() {
        let local: [AWSError] = [
            .transport(.connectFailed, host: "s3.x", detail: "refused", curlCode: 7),
            .noCredentials(looked: ["the environment"]), .credentials("credential_process x exited with status 1"),
            .configuration("no region"), .signing("bad expiry"),
            .waiter(.timedOut, name: "InstanceStopped", attempts: 40, elapsed: 600, lastObserved: "stopping"),
        ]
        for error in local {
            #expect(!error.isServiceAnswer && !error.isNotFound && !error.isNoSuchKey && !error.isCapacity)
            #expect(!error.isAccessDenied && !error.isThrottle && !error.isIncorrectState, "\(error)")
        }
    }

    @Test func localErrorsSayWhatToDoNext() {
        let missing = AWSError.noCredentials(looked: ["the environment", "~/.aws/credentials"])
        #expect(missing.isCredentialFailure && missing.placesLooked.count == 2)
        #expect(missing.description.contains("Looked in: the environment; ~/.aws/credentials"))
        #expect(missing.next?.contains("aws configure") == true && missing.next?.contains("aws sso login") == true)
        #expect(AWSError.credentials("SSO token expired", next: "run `aws sso login`").next == "run `aws sso login`")
        #expect(AWSError.configuration("no region").isConfigurationFailure)
        #expect(AWSError.configuration("no region").next?.isEmpty == false)
        let stuck = AWSError.waiter(.timedOut, name: "InstanceStopped", attempts: 40, elapsed: 600, lastObserved: "x")
        #expect(stuck.isWaiterTimeout && stuck.attempts == 40 && stuck.next?.contains("resume") == true)
        #expect(
            AWSError(code: "NoSuchKey", message: "", httpStatus: 404, service: "s3", action: "GetObject").next == nil)
    }

    @Test func redactionHidesSecrets() {
        let headers = [
            HTTPHeader("Authorization", "AWS4-HMAC-SHA256 Credential=AK/…, Signature=abc"),
            HTTPHeader("X-Amz-Security-Token", "tok"), HTTPHeader("Host", "h"),
        ]
        let text = Redaction.headers(headers)
        #expect(!text.contains("abc") && !text.contains("tok") && text.contains("Host: h"))
        let url = URL(
            string: "https://b.s3.amazonaws.com/k?X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok&X-Amz-Expires=60")!
        let shown = Redaction.url(url)
        #expect(!shown.contains("deadbeef") && !shown.contains("tok") && shown.contains("X-Amz-Expires=60"))
    }
}
