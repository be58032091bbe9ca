import Foundation

/// Where an SSO profile signs in and which role it takes.
public struct SSOProfile: Sendable, Equatable {
    /// `sso_session` name (refreshable tokens), or nil for a legacy profile keyed by start URL.
    public var sessionName: String?
    public var startURL: String
    public var region: String
    public var accountId: String
    public var roleName: String
    /// ~/.aws/sso/cache
    public var cacheDirectory: String
    /// SSO OIDC (`CreateToken`) and portal (`GetRoleCredentials`) base URLs.
    public var oidcEndpoint: URL
    public var portalEndpoint: URL

    /// The cache file the CLI's `aws sso login` writes: SHA-1 of the session name, or of the
    /// start URL for legacy profiles.
    public var cacheFile: String {
        let key = sessionName ?? startURL
        return (cacheDirectory as NSString).appendingPathComponent(Digest.hex(Digest.sha1(Data(key.utf8))) + ".json")
    }
}

/// IAM Identity Center: the token `aws sso login` cached (refreshed through SSO OIDC
/// CreateToken when it is about to expire and holds a refresh token; the cache is written
/// back), exchanged for role credentials at the portal's GetRoleCredentials.
public struct SSOCredentialProvider: CredentialProvider, CustomStringConvertible {
    public let profile: SSOProfile
    let transport: any HTTPTransport
    let clock: CredentialClock
    /// Refresh the token this long before it expires (the CLI uses 10–15 minutes).
    static let refreshWindow: TimeInterval = 600

    public init(profile: SSOProfile, transport: any HTTPTransport, clock: @escaping CredentialClock = { Date() }) {
        self.profile = profile
        self.transport = transport
        self.clock = clock
    }

    var loginHint: String {
        profile.sessionName.map { "run `aws sso login --sso-session \($0)`" }
            ?? "run `aws sso login` for \(profile.startURL)"
    }

    public func credentials() async throws -> Credentials {
        let token = try await accessToken()
        var components = URLComponents(
            url: profile.portalEndpoint.appendingPathComponent("federation/credentials"), resolvingAgainstBaseURL: false
        )
        components?.queryItems = [
            URLQueryItem(name: "account_id", value: profile.accountId),
            URLQueryItem(name: "role_name", value: profile.roleName),
        ]
        guard let url = components?.url else {
            throw AWSError.credentials("bad SSO portal endpoint \(profile.portalEndpoint)")
        }
        let request = HTTPRequest(method: "GET", url: url, headers: [HTTPHeader("x-amz-sso_bearer_token", token)])
        let response = try await send(request, what: "SSO GetRoleCredentials")
        guard response.status == 200 else {
            let hint =
                response.status == 401 || response.status == 403
                ? "the SSO session was refused or has no access to role \(profile.roleName) in account \(profile.accountId): \(loginHint)"
                : "HTTP \(response.status)"
            throw AWSError.credentials(
                "SSO GetRoleCredentials at \(profile.portalEndpoint.absoluteString) failed: \(hint)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let role = object["roleCredentials"] as? [String: Any],
            let id = role["accessKeyId"] as? String, let secret = role["secretAccessKey"] as? String
        else { throw AWSError.credentials("SSO GetRoleCredentials returned no roleCredentials") }
        let expiration = (role["expiration"] as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue / 1000) }
        return Credentials(
            accessKeyId: id, secretAccessKey: secret, sessionToken: role["sessionToken"] as? String,
            expiration: expiration)
    }

    /// The cached access token, refreshed first when it is (nearly) expired and refreshable.
    func accessToken() async throws -> String {
        let path = profile.cacheFile
        guard let data = FileManager.default.contents(atPath: path),
            var cache = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let token = cache["accessToken"] as? String,
            let expiresAt = (cache["expiresAt"] as? String).flatMap(CredentialsJSON.parseDate)
        else { throw AWSError.credentials("no usable SSO token in \(path): \(loginHint)") }
        let now = clock()
        if now.addingTimeInterval(Self.refreshWindow) < expiresAt { return token }
        if profile.sessionName != nil, let refreshed = try await refresh(&cache, now: now) {
            writeBack(cache, to: path)
            return refreshed
        }
        if now < expiresAt { return token }
        throw AWSError.credentials(
            "the SSO token in \(path) expired at \(CredentialsJSON.formatDate(expiresAt)): \(loginHint)")
    }

    /// SSO OIDC CreateToken with the refresh token; nil when the cache cannot be refreshed.
    private func refresh(_ cache: inout [String: Any], now: Date) async throws -> String? {
        guard let refreshToken = cache["refreshToken"] as? String,
            let clientId = cache["clientId"] as? String, let clientSecret = cache["clientSecret"] as? String
        else { return nil }
        if let registration = (cache["registrationExpiresAt"] as? String).flatMap(CredentialsJSON.parseDate),
            registration <= now
        {
            return nil
        }
        let body = try JSONSerialization.data(withJSONObject: [
            "grantType": "refresh_token", "clientId": clientId, "clientSecret": clientSecret,
            "refreshToken": refreshToken,
        ])
        let request = HTTPRequest(
            method: "POST", url: profile.oidcEndpoint.appendingPathComponent("token"),
            headers: [HTTPHeader("Content-Type", "application/json")], body: body)
        let response = try await send(request, what: "SSO OIDC CreateToken")
        guard response.status == 200,
            let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let accessToken = object["accessToken"] as? String,
            let expiresIn = object["expiresIn"] as? NSNumber
        else { return nil }
        cache["accessToken"] = accessToken
        cache["expiresAt"] = CredentialsJSON.formatDate(now.addingTimeInterval(expiresIn.doubleValue))
        if let next = object["refreshToken"] as? String { cache["refreshToken"] = next }
        return accessToken
    }

    /// Owner-only temp file renamed over the cache: the file holds tokens, so it is never
    /// readable by others, not even for a moment.
    private func writeBack(_ cache: [String: Any], to path: String) {
        guard let data = try? JSONSerialization.data(withJSONObject: cache, options: [.sortedKeys]) else { return }
        let temporary = path + ".keyrescue-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
        else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    private func send(_ request: HTTPRequest, what: String) async throws -> HTTPResponse {
        do {
            return try await transport.send(request)
        } catch {
            throw AWSError.credentials("\(what) at \(request.url.host ?? "?") unreachable: \(error)")
        }
    }

    public var description: String {
        "SSO role \(profile.roleName) in account \(profile.accountId) via \(profile.sessionName.map { "sso-session \($0)" } ?? profile.startURL)"
    }
}
