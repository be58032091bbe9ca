import Foundation

/// S3 (REST-XML). Path-style URLs for custom endpoints (emulators, proxies), virtual-hosted style
/// (`bucket.s3.region.amazonaws.com`) for AWS itself.
public struct S3Client: Sendable {
    public let client: ServiceClient
    /// True when the endpoint is AWS's own (virtual-hosted addressing).
    let virtualHosted: Bool

    public init(client: ServiceClient) {
        self.client = client
        self.virtualHosted = client.endpoint.host?.hasSuffix(".amazonaws.com") ?? false
    }

    /// The URL of a bucket or an object (`key` percent-encoded per segment, `/` kept).
    public func url(bucket: String, key: String? = nil, query: [(String, String?)] = []) -> URL {
        let encodedKey =
            key.map {
                "/"
                    + $0.split(separator: "/", omittingEmptySubsequences: false).map {
                        QueryParameters.encode(String($0))
                    }.joined(separator: "/")
            } ?? "/"
        if virtualHosted, var components = URLComponents(url: client.endpoint, resolvingAgainstBaseURL: false),
            let host = components.host
        {
            components.host = "\(bucket).\(host)"
            let base = ServiceClient(
                service: client.service, endpoint: components.url ?? client.endpoint, region: client.region,
                credentials: client.credentials, transport: client.transport)
            return base.url(path: encodedKey, query: query)
        }
        return client.url(path: "/\(bucket)" + (key == nil ? "" : encodedKey), query: query)
    }

    func send(_ method: String, _ url: URL, action: String, headers: [HTTPHeader] = [], body: Data = Data())
        async throws -> HTTPResponse
    {
        try await client.execute(HTTPRequest(method: method, url: url, headers: headers, body: body), action: action)
    }

    /// Creates a bucket; outside us-east-1 with the region's location constraint.
    public func createBucket(_ bucket: String) async throws {
        var body = Data()
        if client.region != "us-east-1" {
            body = Data(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + XMLWriter.text("LocationConstraint", client.region) + "</CreateBucketConfiguration>").utf8)
        }
        _ = try await send(
            "PUT", url(bucket: bucket), action: "CreateBucket",
            headers: body.isEmpty ? [] : [HTTPHeader("Content-Type", "application/xml")], body: body)
    }

    /// Blocks every kind of public access to the bucket.
    public func putPublicAccessBlock(_ bucket: String) async throws {
        let flags = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"].map {
            XMLWriter.text($0, "true")
        }.joined()
        let body = Data(
            ("<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + flags
                + "</PublicAccessBlockConfiguration>").utf8)
        _ = try await send(
            "PUT", url(bucket: bucket, query: [("publicAccessBlock", "")]), action: "PutPublicAccessBlock",
            headers: Self.xmlWithChecksum(body), body: body)
    }

    /// One rule: objects under `prefix` expire after `days`.
    public func putExpiryRule(_ bucket: String, id: String, prefix: String, days: Int) async throws {
        let rule =
            XMLWriter.text("ID", id) + XMLWriter.element("Filter", XMLWriter.text("Prefix", prefix))
            + XMLWriter.text("Status", "Enabled")
            + XMLWriter.element("Expiration", XMLWriter.text("Days", String(days)))
        let body = Data(
            ("<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + XMLWriter.element("Rule", rule) + "</LifecycleConfiguration>").utf8)
        _ = try await send(
            "PUT", url(bucket: bucket, query: [("lifecycle", "")]), action: "PutBucketLifecycleConfiguration",
            headers: Self.xmlWithChecksum(body), body: body)
    }

    /// Returns the ETag.
    @discardableResult
    public func putObject(_ bucket: String, key: String, body: Data, contentType: String = "application/octet-stream")
        async throws -> String?
    {
        try await send(
            "PUT", url(bucket: bucket, key: key), action: "PutObject",
            headers: [HTTPHeader("Content-Type", contentType)], body: body
        ).header("ETag")
    }

    public func getObject(_ bucket: String, key: String) async throws -> Data {
        try await send("GET", url(bucket: bucket, key: key), action: "GetObject").body
    }

    /// Size, ETag and Last-Modified, or nil when the object does not exist.
    public func headObject(_ bucket: String, key: String) async throws -> S3ObjectHead? {
        do {
            let response = try await send("HEAD", url(bucket: bucket, key: key), action: "HeadObject")
            return S3ObjectHead(
                size: Int(response.header("Content-Length") ?? "") ?? 0, etag: response.header("ETag"),
                lastModified: response.header("Last-Modified").flatMap(S3ObjectHead.httpDate))
        } catch let error as AWSError where error.httpStatus == 404 {
            return nil
        }
    }

    public func deleteObject(_ bucket: String, key: String) async throws {
        _ = try await send("DELETE", url(bucket: bucket, key: key), action: "DeleteObject")
    }

    /// A presigned GET or PUT URL, valid `expires` seconds (keep it short: it is a bearer token).
    /// Every object under `prefix` (ListObjectsV2, following continuation tokens).
    public func listObjects(_ bucket: String, prefix: String) async throws -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        repeat {
            var query: [(String, String?)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", url(bucket: bucket, query: query), action: "ListObjectsV2")
            guard let root = XMLElement.parse(response.body) else {
                throw AWSError(
                    code: "MalformedResponse", message: "ListObjectsV2 answered with something that is not XML",
                    httpStatus: response.status, service: "s3", action: "ListObjectsV2")
            }
            objects += root.all("Contents").compactMap(S3Object.parse)
            token = root.string("IsTruncated") == "true" ? root.string("NextContinuationToken") : nil
        } while token != nil
        return objects
    }

    public func presign(method: String, bucket: String, key: String, expires: Int) async throws -> URL {
        try await presigned(method: method, bucket: bucket, key: key, expires: expires).url
    }

    /// A presigned URL and when it stops working: after `expires` seconds, or sooner when the
    /// credentials that signed it are temporary and expire first (S3 then refuses the URL too).
    public func presigned(method: String, bucket: String, key: String, expires: Int) async throws -> (
        url: URL, validUntil: Date
    ) {
        let credentials = try await client.credentials.credentials()
        let now = client.clock.now()
        let signer = SigV4Signer(credentials: credentials, region: client.region, service: "s3")
        let url = try signer.presign(
            HTTPRequest(method: method, url: url(bucket: bucket, key: key)), expires: expires, date: now
        ).url
        let lifetime = now.addingTimeInterval(TimeInterval(expires))
        return (url, min(lifetime, credentials.expiration ?? lifetime))
    }

    /// S3 requires an integrity header (Content-MD5 or a checksum) on these configuration PUTs.
    static func xmlWithChecksum(_ body: Data) -> [HTTPHeader] {
        [
            HTTPHeader("Content-Type", "application/xml"), HTTPHeader("x-amz-sdk-checksum-algorithm", "SHA256"),
            HTTPHeader("x-amz-checksum-sha256", Data(Digest.sha256(body)).base64EncodedString()),
        ]
    }
}

/// An object as ListObjectsV2 lists it.
public struct S3Object: Sendable, Equatable {
    public var key: String
    public var lastModified: Date
    public var size: Int

    public init(key: String, lastModified: Date, size: Int) {
        self.key = key
        self.lastModified = lastModified
        self.size = size
    }

    static func parse(_ node: XMLElement) -> S3Object? {
        guard let key = node.string("Key"), let stamp = node.string("LastModified"),
            let date = (try? Date(stamp, strategy: .iso8601)) ?? ISO8601DateFormatter.withFractions.date(from: stamp)
        else { return nil }
        return S3Object(key: key, lastModified: date, size: node.int("Size") ?? 0)
    }
}

/// What HeadObject says about an object.
public struct S3ObjectHead: Sendable, Equatable {
    public var size: Int
    public var etag: String?
    /// When the object was last written (S3 sends an HTTP-date, RFC 7231 IMF-fixdate).
    public var lastModified: Date?

    public init(size: Int, etag: String? = nil, lastModified: Date? = nil) {
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }

    /// `Wed, 21 Oct 2015 07:28:00 GMT` → a Date; nil for anything else.
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}
