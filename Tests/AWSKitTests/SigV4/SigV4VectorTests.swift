import AWSKit
import Foundation
import Testing

/// Runs every botocore-made vector through `SigV4Signer` and compares each stage.
/// A missing vector file fails the suite: it must never pass by skipping.
@Suite struct SigV4VectorTests {
    @Test func everyVectorMatchesAtEachStage() throws {
        let vectors = try SigV4Vector.loadAll()
        try #require(!vectors.isEmpty, "no vectors in \(SigV4Vector.fileURL.path)")
        var headerCount = 0, queryCount = 0
        for vector in vectors {
            switch vector.kind {
            case "header":
                try checkHeader(vector)
                headerCount += 1
            case "query":
                try checkQuery(vector)
                queryCount += 1
            default:
                Issue.record("\(vector.name): unknown kind \(vector.kind)")
            }
        }
        print(
            "SigV4VectorTests: \(vectors.count) vectors (\(headerCount) header, \(queryCount) query) from \(SigV4Vector.fileURL.path)"
        )
    }

    private func signer(_ v: SigV4Vector) -> SigV4Signer {
        SigV4Signer(
            credentials: Credentials(
                accessKeyId: v.accessKeyId, secretAccessKey: v.secretAccessKey, sessionToken: v.sessionToken),
            region: v.region, service: v.service)
    }

    private func request(_ v: SigV4Vector) throws -> HTTPRequest {
        let url = try #require(URL(string: v.request.url), "\(v.name): bad URL")
        let body = try #require(Data(base64Encoded: v.request.bodyBase64), "\(v.name): bad body")
        let headers = v.request.headers.sorted { $0.key < $1.key }.map { HTTPHeader($0.key, $0.value) }
        return HTTPRequest(method: v.request.method, url: url, headers: headers, body: body)
    }

    private func checkHeader(_ v: SigV4Vector) throws {
        let signed = signer(v).signHeaders(try request(v), date: try v.date)
        #expect(signed.canonicalRequest == v.expect.canonicalRequest, "\(v.name): canonical request")
        #expect(signed.stringToSign == v.expect.stringToSign, "\(v.name): string to sign")
        #expect(signed.signature == v.expect.signature, "\(v.name): signature")
        let expected = try #require(v.expect.headers, "\(v.name): no expected headers")
        let actual = Dictionary(
            signed.request.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        let wanted = Dictionary(expected.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        #expect(actual == wanted, "\(v.name): final headers")
    }

    private func checkQuery(_ v: SigV4Vector) throws {
        let expires = try #require(v.expiresSeconds, "\(v.name): no expiry")
        let presigned = try signer(v).presign(try request(v), expires: expires, date: try v.date)
        #expect(presigned.canonicalRequest == v.expect.canonicalRequest, "\(v.name): canonical request")
        #expect(presigned.stringToSign == v.expect.stringToSign, "\(v.name): string to sign")
        #expect(presigned.signature == v.expect.signature, "\(v.name): signature")
        #expect(presigned.url.absoluteString == v.expect.url, "\(v.name): URL")
    }
}
