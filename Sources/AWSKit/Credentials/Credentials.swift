import Foundation

/// An access key pair, with the session token and expiry of temporary credentials.
/// `description` never shows the secret or the token: credentials must not reach a log.
public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        "Credentials(accessKeyId: \(accessKeyId), secret: <redacted>\(sessionToken == nil ? "" : ", session token: <redacted>"))"
    }
}

/// Where credentials come from (environment, profile, role, SSO, IMDS …). Providers that
/// hand out temporary credentials refresh them before `expiration`.
public protocol CredentialProvider: Sendable {
    func credentials() async throws -> Credentials
}
