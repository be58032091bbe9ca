import Foundation

/// STS AssumeRole parameters from a profile (`role_arn`, `role_session_name`, `external_id`,
/// `duration_seconds`, `mfa_serial` with the code the user typed).
public struct AssumeRoleRequest: Sendable, Equatable {
    public var roleArn: String
    public var roleSessionName: String
    public var externalId: String?
    public var durationSeconds: Int?
    public var serialNumber: String?
    public var tokenCode: String?
    /// Where STS lives for this call (region and resolved endpoint, overrides included).
    public var region: String
    public var endpoint: URL

    public init(
        roleArn: String, roleSessionName: String, externalId: String? = nil, durationSeconds: Int? = nil,
        serialNumber: String? = nil, tokenCode: String? = nil, region: String, endpoint: URL
    ) {
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.serialNumber = serialNumber
        self.tokenCode = tokenCode
        self.region = region
        self.endpoint = endpoint
    }
}

/// STS AssumeRoleWithWebIdentity parameters. The call is unsigned: the token is the proof.
public struct AssumeRoleWithWebIdentityRequest: Sendable, Equatable, CustomStringConvertible {
    public var roleArn: String
    public var roleSessionName: String
    public var webIdentityToken: String
    public var durationSeconds: Int?
    public var region: String
    public var endpoint: URL

    public init(
        roleArn: String, roleSessionName: String, webIdentityToken: String, durationSeconds: Int? = nil,
        region: String, endpoint: URL
    ) {
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.webIdentityToken = webIdentityToken
        self.durationSeconds = durationSeconds
        self.region = region
        self.endpoint = endpoint
    }

    public var description: String {
        "AssumeRoleWithWebIdentity(role: \(roleArn), session: \(roleSessionName), token: <redacted>)"
    }
}

/// STS's two role calls, as the credential chain needs them. AWSKit's STS client implements
/// this; the chain only knows the protocol, so it is tested with a fake.
public protocol RoleAssumer: Sendable {
    /// AssumeRole signed with `credentials`; returns temporary credentials with their expiry.
    func assumeRole(_ request: AssumeRoleRequest, using credentials: Credentials) async throws -> Credentials
    /// AssumeRoleWithWebIdentity (unsigned).
    func assumeRoleWithWebIdentity(_ request: AssumeRoleWithWebIdentityRequest) async throws -> Credentials
}

/// Asks the user for an MFA code. The default reads a line from the controlling terminal.
public typealias MFAPrompt = @Sendable (_ mfaSerial: String) async throws -> String

/// The time now; tests drive it.
public typealias CredentialClock = @Sendable () -> Date
