import Foundation

extension SigV4Signer {
    /// The longest validity SigV4 allows a presigned URL: seven days.
    public static let maximumPresignExpiry = 604_800

    /// A presigned URL with every intermediate stage.
    public struct Presigned: Sendable, Equatable {
        public var url: URL
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
    }

    /// Presigns `request.method` on `request.url` for `expires` seconds (1…604800), with
    /// `UNSIGNED-PAYLOAD` for S3 (the body is not known when the URL is made) and the session
    /// token in `X-Amz-Security-Token`. Existing query parameters are kept (first value of each
    /// name, as botocore does). Headers in `request` other than Host are signed and must be sent.
    public func presign(_ request: HTTPRequest, expires: Int, date: Date) throws(AWSError) -> Presigned {
        guard (1...Self.maximumPresignExpiry).contains(expires) else {
            throw AWSError.signing(
                "presigned URL expiry must be 1…\(Self.maximumPresignExpiry) seconds, got \(expires)")
        }
        guard let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false),
            let scheme = components.scheme, let host = components.host, !host.isEmpty
        else { throw AWSError.signing("cannot presign a URL without scheme and host") }

        let stamp = SigV4Date(date)
        let headers = SigV4Canonical.headers(request.headers, host: SigV4Canonical.host(of: components))
        var params = [(name: [UInt8], value: [UInt8])]()
        var seen = Set<[UInt8]>()
        for pair in SigV4Canonical.queryPairs(components.percentEncodedQuery, plusIsSpace: true)
        where seen.insert(pair.name).inserted {
            params.append(pair)
        }
        var auth: [(String, String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(stamp))"),
            ("X-Amz-Date", stamp.timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", headers.signed),
        ]
        if let token = credentials.sessionToken { auth.append(("X-Amz-Security-Token", token)) }
        params += auth.map { (Array($0.0.utf8), Array($0.1.utf8)) }

        let payloadHash = service == "s3" ? Self.unsignedPayload : Digest.hex(Digest.sha256(request.body))
        let canonicalRequest = [
            request.method.uppercased(),
            SigV4Canonical.path(components.percentEncodedPath, service: service),
            SigV4Canonical.query(params),
            headers.canonical,
            headers.signed,
            payloadHash,
        ].joined(separator: "\n")
        let (stringToSign, signature) = sign(canonicalRequest, stamp: stamp)

        let query =
            params.map { "\(SigV4Canonical.uriEncode($0.name))=\(SigV4Canonical.uriEncode($0.value))" }
            .joined(separator: "&") + "&X-Amz-Signature=\(signature)"
        let authority = components.port.map { "\(host):\($0)" } ?? host
        let text = "\(scheme)://\(authority)\(components.percentEncodedPath)?\(query)"
        guard let url = URL(string: text) else {
            throw AWSError.signing("presigned URL is not a valid URL")
        }
        return Presigned(url: url, canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature)
    }
}
