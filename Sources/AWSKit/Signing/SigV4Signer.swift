import Foundation

/// AWS Signature Version 4 as a pure value: credentials, region and service in, the date passed
/// to each call, no I/O. Header signing for query/JSON/S3 requests and presigned URLs.
public struct SigV4Signer: Sendable {
    public var credentials: Credentials
    public var region: String
    public var service: String

    public init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What the canonical request says about the body.
    public enum Payload: Sendable, Equatable {
        /// SHA-256 of the body (the default, and required over plain HTTP).
        case signed
        /// `UNSIGNED-PAYLOAD`: S3 over TLS, for bodies too large to hash twice.
        case unsigned
    }

    /// A signed request with every intermediate stage, so tests can compare each one.
    public struct Signed: Sendable, Equatable {
        public var request: HTTPRequest
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
    }

    static let algorithm = "AWS4-HMAC-SHA256"
    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Adds `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials), `X-Amz-Content-SHA256`
    /// (S3, or an unsigned payload) and `Authorization`, replacing earlier ones (a retry re-signs).
    public func signHeaders(_ request: HTTPRequest, date: Date, payload: Payload = .signed) -> Signed {
        let stamp = SigV4Date(date)
        var signed = request
        var added = [HTTPHeader("X-Amz-Date", stamp.timestamp)]
        if let token = credentials.sessionToken { added.append(HTTPHeader("X-Amz-Security-Token", token)) }
        let payloadHash = payload == .unsigned ? Self.unsignedPayload : Digest.hex(Digest.sha256(request.body))
        if service == "s3" || payload == .unsigned {
            added.append(HTTPHeader("X-Amz-Content-SHA256", payloadHash))
        }
        let replaced = Set((added.map(\.name) + ["Authorization"]).map { $0.lowercased() })
        signed.headers.removeAll { replaced.contains($0.name.lowercased()) }
        signed.headers += added

        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false) ?? URLComponents()
        let headers = SigV4Canonical.headers(signed.headers, host: SigV4Canonical.host(of: components))
        let canonicalRequest = [
            request.method.uppercased(),
            SigV4Canonical.path(components.percentEncodedPath, service: service),
            SigV4Canonical.query(SigV4Canonical.queryPairs(components.percentEncodedQuery)),
            headers.canonical,
            headers.signed,
            payloadHash,
        ].joined(separator: "\n")
        let (stringToSign, signature) = sign(canonicalRequest, stamp: stamp)
        signed.headers.append(
            HTTPHeader(
                "Authorization",
                "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope(stamp)), "
                    + "SignedHeaders=\(headers.signed), Signature=\(signature)"))
        return Signed(
            request: signed, canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature)
    }

    func scope(_ stamp: SigV4Date) -> String { "\(stamp.day)/\(region)/\(service)/aws4_request" }

    /// String to sign and signature (hex) of a canonical request.
    func sign(_ canonicalRequest: String, stamp: SigV4Date) -> (stringToSign: String, signature: String) {
        let stringToSign = [
            Self.algorithm, stamp.timestamp, scope(stamp),
            Digest.hex(Digest.sha256(Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = Array("AWS4\(credentials.secretAccessKey)".utf8)
        for part in [stamp.day, region, service, "aws4_request"] {
            key = Digest.hmacSHA256(key: key, Array(part.utf8))
        }
        return (stringToSign, Digest.hex(Digest.hmacSHA256(key: key, Array(stringToSign.utf8))))
    }
}

/// The two date forms SigV4 uses, in UTC: `20261123T123600Z` and `20261123`.
struct SigV4Date: Sendable {
    let timestamp: String
    var day: String { String(timestamp.prefix(8)) }

    init(_ date: Date) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        timestamp = String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
