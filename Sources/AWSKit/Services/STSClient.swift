import Foundation

/// STS (query protocol, 2011-06-15). Also the credential chain's `RoleAssumer`.
public struct STSClient: Sendable {
    public static let version = "2011-06-15"
    public let client: ServiceClient
    public init(client: ServiceClient) { self.client = client }

    public struct CallerIdentity: Sendable, Equatable {
        public var account: String
        public var arn: String
        public var userId: String
    }

    public func getCallerIdentity() async throws -> CallerIdentity {
        let root = try await client.query("GetCallerIdentity", version: Self.version, QueryParameters())
        let result = root.find("GetCallerIdentityResult")
        return CallerIdentity(
            account: result?.string("Account") ?? "", arn: result?.string("Arn") ?? "",
            userId: result?.string("UserId") ?? "")
    }

    /// The policy evaluation behind an `UnauthorizedOperation` (JSON text).
    public func decodeAuthorizationMessage(_ encoded: String) async throws -> String {
        var params = QueryParameters()
        params.set("EncodedMessage", encoded)
        let root = try await client.query("DecodeAuthorizationMessage", version: Self.version, params)
        return root.find("DecodedMessage")?.text ?? ""
    }

    static func credentials(in root: XMLElement) throws -> Credentials {
        guard let node = root.find("Credentials"), let id = node.string("AccessKeyId"),
            let secret = node.string("SecretAccessKey")
        else {
            throw AWSError(
                code: "MalformedResponse", message: "STS answered without credentials", httpStatus: 200, service: "sts",
                action: "AssumeRole")
        }
        let expiry =
            node.string("Expiration").flatMap { try? Date($0, strategy: .iso8601) }
            ?? node.string("Expiration").flatMap { ISO8601DateFormatter.withFractions.date(from: $0) }
        return Credentials(
            accessKeyId: id, secretAccessKey: secret, sessionToken: node.string("SessionToken"), expiration: expiry)
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

extension STSClient: RoleAssumer {
    /// AssumeRole at the request's endpoint, signed with the source credentials (not this client's).
    public func assumeRole(_ request: AssumeRoleRequest, using credentials: Credentials) async throws -> Credentials {
        var params = QueryParameters()
        params.set("RoleArn", request.roleArn)
        params.set("RoleSessionName", request.roleSessionName)
        params.set("ExternalId", request.externalId)
        params.set("DurationSeconds", request.durationSeconds)
        params.set("SerialNumber", request.serialNumber)
        params.set("TokenCode", request.tokenCode)
        let sts = ServiceClient(
            service: "sts", endpoint: request.endpoint, region: request.region,
            credentials: StaticCredentialProvider(credentials, source: "the role chain"),
            transport: client.transport, retry: client.retry, quota: client.quota, clock: client.clock,
            logger: client.logger)
        return try Self.credentials(in: try await sts.query("AssumeRole", version: Self.version, params))
    }

    /// AssumeRoleWithWebIdentity: unsigned, the token is the proof.
    public func assumeRoleWithWebIdentity(_ request: AssumeRoleWithWebIdentityRequest) async throws -> Credentials {
        var params = QueryParameters()
        params.set("RoleArn", request.roleArn)
        params.set("RoleSessionName", request.roleSessionName)
        params.set("WebIdentityToken", request.webIdentityToken)
        params.set("DurationSeconds", request.durationSeconds)
        let sts = ServiceClient(
            service: "sts", endpoint: request.endpoint, region: request.region,
            credentials: StaticCredentialProvider(
                Credentials(accessKeyId: "", secretAccessKey: ""), source: "none (unsigned call)"),
            transport: client.transport, retry: client.retry, quota: client.quota, clock: client.clock,
            logger: client.logger)
        let http = HTTPRequest(
            method: "POST", url: sts.url(),
            headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: params.formEncoded(action: "AssumeRoleWithWebIdentity", version: Self.version))
        let response = try await sts.execute(http, action: "AssumeRoleWithWebIdentity", signed: false)
        return try Self.credentials(
            in: try ServiceClient.xml(response, service: "sts", action: "AssumeRoleWithWebIdentity"))
    }
}
