import Foundation
import Testing

@testable import AWSKit

@Suite struct ErrorDecodingTests {
    @Test func ec2UnauthorizedNamesTheActionAndHowToDecode() async throws {
        let transport = StepTransport([
            StepTransport.ec2Error(
                "UnauthorizedOperation", status: 403,
                message: "You are not authorized to perform this operation. Encoded authorization failure message: AbC123xyz")
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
        let body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r-9</RequestId></ErrorResponse>"
        let error = AWSErrorDecoder.decode(HTTPResponse(status: 403, body: Data(body.utf8)), service: "sts", action: "AssumeRole")
        #expect(error.code == "AccessDenied")
        #expect(error.message == "no")
        #expect(error.requestId == "r-9")
        #expect(error.isAccessDenied)
    }

    @Test func authFailureIsAboutCredentialsNotPermissions() {
        let error = AWSError(code: "AuthFailure", message: "AWS was not able to validate the provided access credentials",
                             httpStatus: 401, service: "ec2", action: "CreateSnapshot")
        #expect(!error.isAccessDenied)
        #expect(!error.description.contains("IAM permission"))
        #expect(error.description.contains("Check your access key and secret"))
    }

    @Test func s3ErrorWithHeaderRequestId() {
        let body = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message><Key>a</Key></Error>"
        let response = HTTPResponse(status: 404, headers: [HTTPHeader("x-amz-request-id", "s3-1")], body: Data(body.utf8))
        let error = AWSErrorDecoder.decode(response, service: "s3", action: "GetObject")
        #expect(error.code == "NoSuchKey")
        #expect(error.requestId == "s3-1")
    }

    @Test func jsonErrorType() {
        let body = #"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"missing"}"#
        let response = HTTPResponse(status: 400, headers: [HTTPHeader("x-amzn-RequestId", "j-1")], body: Data(body.utf8))
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
        let tls = TransportError(code: .tls, host: "ec2.x", detail: "bad cert", curlCode: 60)
        #expect(!tls.isRetryable)
        #expect(tls.description.contains("AWS_CA_BUNDLE"))
        #expect(TransportError(code: .connectionReset, host: "h", detail: "", curlCode: 56).isRetryable)
    }

    @Test func redactionHidesSecrets() {
        let headers = [HTTPHeader("Authorization", "AWS4-HMAC-SHA256 Credential=AK/…, Signature=abc"), HTTPHeader("X-Amz-Security-Token", "tok"), HTTPHeader("Host", "h")]
        let text = Redaction.headers(headers)
        #expect(!text.contains("abc") && !text.contains("tok") && text.contains("Host: h"))
        let url = URL(string: "https://b.s3.amazonaws.com/k?X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok&X-Amz-Expires=60")!
        let shown = Redaction.url(url)
        #expect(!shown.contains("deadbeef") && !shown.contains("tok") && shown.contains("X-Amz-Expires=60"))
    }
}
