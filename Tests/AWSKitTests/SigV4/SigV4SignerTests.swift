@testable import AWSKit
import Foundation
import Testing

/// Behaviour the vectors do not pin down: validation, UNSIGNED-PAYLOAD, re-signing, encoding rules.
@Suite struct SigV4SignerTests {
    let credentials = Credentials(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret/key+value", sessionToken: "tok/en+=")
    let date = Date(timeIntervalSince1970: 1_795_437_360)  // 2026-11-23T12:36:00Z

    func url(_ s: String) throws -> URL { try #require(URL(string: s)) }

    @Test(arguments: [0, -1, 604_801, 1_000_000])
    func presignRejectsExpiryOutsideSevenDays(expires: Int) throws {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        let request = HTTPRequest(method: "GET", url: try url("https://b.s3.us-east-1.amazonaws.com/k"))
        #expect { try signer.presign(request, expires: expires, date: date) } throws: {
            ($0 as? AWSError)?.isSigningFailure == true
        }
    }

    @Test func presignCarriesTokenAndUnsignedPayload() throws {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        let request = HTTPRequest(method: "PUT", url: try url("https://b.s3.us-east-1.amazonaws.com/runs/r.json"))
        let presigned = try signer.presign(request, expires: 604_800, date: date)
        let query = presigned.url.query ?? ""
        #expect(query.contains("X-Amz-Expires=604800"))
        #expect(query.contains("X-Amz-Security-Token=tok%2Fen%2B%3D"))
        #expect(presigned.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        #expect(presigned.canonicalRequest.contains("X-Amz-Date=20261123T123600Z"))
    }

    @Test func s3HeaderSigningMayUseUnsignedPayload() throws {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        let request = HTTPRequest(
            method: "PUT", url: try url("https://b.s3.us-east-1.amazonaws.com/k"), body: Data("x".utf8))
        let signed = signer.signHeaders(request, date: date, payload: .unsigned)
        #expect(signed.request.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD")
        #expect(signed.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        #expect(signed.request.header("X-Amz-Security-Token") == "tok/en+=")
    }

    @Test func resigningReplacesEarlierAuthHeaders() throws {
        let signer = SigV4Signer(credentials: credentials, region: "us-west-2", service: "ssm")
        let request = HTTPRequest(
            method: "POST", url: try url("https://ssm.us-west-2.amazonaws.com/"),
            headers: [
                HTTPHeader("Content-Type", "application/x-amz-json-1.1"),
                HTTPHeader("X-Amz-Target", "AmazonSSM.GetParameter"),
            ],
            body: Data(#"{"Name":"/x"}"#.utf8))
        let once = signer.signHeaders(request, date: date)
        let twice = signer.signHeaders(once.request, date: date.addingTimeInterval(60))
        #expect(twice.request.headers.filter { $0.name.lowercased() == "authorization" }.count == 1)
        #expect(twice.request.headers.filter { $0.name.lowercased() == "x-amz-date" }.count == 1)
        #expect(twice.canonicalRequest.contains("x-amz-target:AmazonSSM.GetParameter\n"))
        #expect(once.signature != twice.signature)
        #expect(once.request.header("x-amz-content-sha256") == nil, "only S3 sends the payload hash header")
    }

    @Test func s3EncodesThePathOnceOtherServicesTwice() {
        #expect(SigV4Canonical.path("/a%20b/c", service: "s3") == "/a%20b/c")
        #expect(SigV4Canonical.path("/a%20b/c", service: "ec2") == "/a%2520b/c")
        #expect(SigV4Canonical.path("/a/./b/../c//d/", service: "sts") == "/a/c/d/")
        #expect(SigV4Canonical.path("", service: "ec2") == "/")
    }

    @Test func aDifferentSecretGivesADifferentSignature() throws {
        let request = HTTPRequest(method: "GET", url: try url("https://ec2.us-east-1.amazonaws.com/?Action=X"))
        var other = credentials
        other.secretAccessKey += "!"
        let a = SigV4Signer(credentials: credentials, region: "us-east-1", service: "ec2").signHeaders(
            request, date: date)
        let b = SigV4Signer(credentials: other, region: "us-east-1", service: "ec2").signHeaders(request, date: date)
        #expect(a.signature != b.signature)
        #expect(a.canonicalRequest == b.canonicalRequest)
    }

    @Test func digestsMatchKnownValues() {
        #expect(Digest.hex(Digest.sha256(Data())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.hex(Digest.sha1(Data("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }
}
