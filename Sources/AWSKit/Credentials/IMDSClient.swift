import Foundation

/// EC2 instance metadata with IMDSv2 session tokens: PUT a token (TTL header), then GETs with
/// it. Gives the instance role's credentials and the region. The endpoint defaults to
/// 169.254.169.254 and `AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides it. Give it a transport
/// with a short connect timeout: off EC2 nothing answers.
public struct IMDSClient: Sendable {
    public let endpoint: URL
    let transport: any HTTPTransport
    public static let defaultEndpoint = "http://169.254.169.254"
    static let tokenTTLSeconds = 21600

    public init(endpoint: URL, transport: any HTTPTransport) {
        self.endpoint = endpoint
        self.transport = transport
    }

    /// The client the environment asks for; nil when `AWS_EC2_METADATA_DISABLED=true`.
    public static func fromEnvironment(_ env: [String: String], transport: any HTTPTransport) throws -> IMDSClient? {
        if env["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" { return nil }
        let text = env["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultEndpoint
        guard let url = URL(string: text), url.host != nil else {
            throw AWSError.credentials("AWS_EC2_METADATA_SERVICE_ENDPOINT \"\(text)\" is not a URL")
        }
        return IMDSClient(endpoint: url, transport: transport)
    }

    func url(_ path: String) -> URL {
        var base = endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return URL(string: base + path) ?? endpoint
    }

    func token() async throws -> String {
        let request = HTTPRequest(
            method: "PUT", url: url("/latest/api/token"),
            headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", String(Self.tokenTTLSeconds))])
        let body = try await send(request, what: "an IMDSv2 session token")
        return String(decoding: body, as: UTF8.self)
    }

    /// GET of a metadata path with the session token.
    public func get(_ path: String, token: String) async throws -> String {
        let request = HTTPRequest(
            method: "GET", url: url(path), headers: [HTTPHeader("X-aws-ec2-metadata-token", token)])
        return String(decoding: try await send(request, what: path), as: UTF8.self)
    }

    private func send(_ request: HTTPRequest, what: String) async throws -> Data {
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw AWSError.credentials(
                "instance metadata at \(endpoint.absoluteString) unreachable (not on EC2? set AWS_EC2_METADATA_DISABLED=true to skip it): \(error)"
            )
        }
        guard response.status == 200 else {
            throw AWSError.credentials(
                "instance metadata at \(endpoint.absoluteString) answered HTTP \(response.status) for \(what)")
        }
        return response.body
    }

    public func region() async throws -> String {
        let region = try await get("/latest/meta-data/placement/region", token: try await token())
        return region.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The instance role's credentials: the role name, then its document.
    public func roleCredentials() async throws -> Credentials {
        let token = try await token()
        let listing = try await get("/latest/meta-data/iam/security-credentials/", token: token)
        guard let role = listing.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw AWSError.credentials("the instance at \(endpoint.absoluteString) has no IAM role (instance profile)")
        }
        let document = try await get("/latest/meta-data/iam/security-credentials/\(role)", token: token)
        return try CredentialsJSON.decode(Data(document.utf8), source: "instance metadata role \(role)")
    }
}

/// The instance role's credentials through IMDSv2.
public struct IMDSCredentialProvider: CredentialProvider, CustomStringConvertible {
    public let client: IMDSClient
    public init(client: IMDSClient) { self.client = client }
    public func credentials() async throws -> Credentials { try await client.roleCredentials() }
    public var description: String { "instance metadata (IMDSv2) at \(client.endpoint.absoluteString)" }
}
