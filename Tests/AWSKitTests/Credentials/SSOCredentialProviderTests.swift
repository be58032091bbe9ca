@testable import AWSKit
import Foundation
import Testing

@Suite struct SSOCredentialProviderTests {
    static let config = """
        [profile sso]
        region = eu-west-1
        sso_session = corp
        sso_account_id = 111122223333
        sso_role_name = Admin
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = eu-central-1
        """

    /// SHA-1 of "corp", as the CLI names the cache file.
    static let cacheName = ".aws/sso/cache/\(Digest.hex(Digest.sha1(Data("corp".utf8)))).json"

    static func portal(expectToken token: String) -> ScriptedTransport {
        ScriptedTransport { request in
            if request.url.path.hasSuffix("/token") {
                let body = try JSONSerialization.jsonObject(with: request.body) as? [String: String]
                guard body?["grantType"] == "refresh_token", body?["refreshToken"] == "refresh-1" else {
                    return HTTPResponse(status: 400)
                }
                return try jsonResponse([
                    "accessToken": "access-2", "expiresIn": 28800, "refreshToken": "refresh-2", "tokenType": "Bearer",
                ])
            }
            guard request.url.path == "/federation/credentials", request.header("x-amz-sso_bearer_token") == token,
                request.url.query?.contains("account_id=111122223333") == true,
                request.url.query?.contains("role_name=Admin") == true
            else { return HTTPResponse(status: 401) }
            return try jsonResponse([
                "roleCredentials": [
                    "accessKeyId": "ASIASSO", "secretAccessKey": "sso-secret", "sessionToken": "sso-token",
                    "expiration": 1_795_441_000_000,
                ]
            ])
        }
    }

    func resolve(_ home: TemporaryHome, transport: ScriptedTransport, clock: DrivenClock) async throws
        -> ResolvedAWSConfig
    {
        try await AWSConfigResolver.resolve(
            options: .init(profile: "sso"), environment: [:], home: home.path,
            dependencies: AWSConfigDependencies(
                transport: transport, roleAssumer: nil, mfaPrompt: nil, clock: clock.function))
    }

    @Test func validCachedTokenGoesStraightToThePortal() async throws {
        let home = try TemporaryHome(config: Self.config)
        defer { home.remove() }
        try home.write(
            Self.cacheName,
            #"{"startUrl": "https://corp.awsapps.com/start", "region": "eu-central-1", "accessToken": "access-1", "expiresAt": "2026-11-23T20:00:00Z"}"#
        )
        let transport = Self.portal(expectToken: "access-1")
        let creds = try await resolve(home, transport: transport, clock: DrivenClock()).credentialProvider.credentials()
        #expect(creds.accessKeyId == "ASIASSO" && creds.expiration == Date(timeIntervalSince1970: 1_795_441_000))
        #expect(transport.requests.map { $0.url.host } == ["portal.sso.eu-central-1.amazonaws.com"])
    }

    @Test func expiredTokenIsRefreshedThroughOIDCAndWrittenBack() async throws {
        let home = try TemporaryHome(config: Self.config)
        defer { home.remove() }
        try home.write(
            Self.cacheName,
            """
            {"startUrl": "https://corp.awsapps.com/start", "region": "eu-central-1", "accessToken": "access-1",
             "expiresAt": "2026-11-23T12:00:00Z", "refreshToken": "refresh-1", "clientId": "cid", "clientSecret": "csecret",
             "registrationExpiresAt": "2027-01-01T00:00:00Z"}
            """)
        let transport = Self.portal(expectToken: "access-2")
        let creds = try await resolve(home, transport: transport, clock: DrivenClock()).credentialProvider.credentials()
        #expect(creds.accessKeyId == "ASIASSO")
        #expect(transport.requests.first?.url.absoluteString == "https://oidc.eu-central-1.amazonaws.com/token")
        let cache = try #require(home.read(Self.cacheName))
        #expect(cache.contains("access-2") && cache.contains("refresh-2") && cache.contains("\"clientId\""))
        let mode =
            try FileManager.default.attributesOfItem(atPath: "\(home.path)/\(Self.cacheName)")[.posixPermissions]
            as? Int
        #expect(mode == 0o600)
    }

    @Test func expiredTokenWithoutRefreshAsksForLogin() async throws {
        let home = try TemporaryHome(config: Self.config)
        defer { home.remove() }
        try home.write(Self.cacheName, #"{"accessToken": "access-1", "expiresAt": "2026-11-23T12:00:00Z"}"#)
        let config = try await resolve(home, transport: ScriptedTransport.refusing, clock: DrivenClock())
        await #expect { try await config.credentialProvider.credentials() } throws: { error in
            "\(error)".contains("aws sso login --sso-session corp") && !"\(error)".contains("access-1")
        }
    }

    @Test func missingCacheAsksForLogin() async throws {
        let home = try TemporaryHome(config: Self.config)
        defer { home.remove() }
        let config = try await resolve(home, transport: ScriptedTransport.refusing, clock: DrivenClock())
        await #expect { try await config.credentialProvider.credentials() } throws: {
            "\($0)".contains("aws sso login")
        }
    }

    @Test func legacyProfileCacheIsNamedAfterTheStartURL() {
        let profile = SSOProfile(
            sessionName: nil, startURL: "https://old.awsapps.com/start", region: "us-east-1", accountId: "1",
            roleName: "R",
            cacheDirectory: "/c", oidcEndpoint: URL(fileURLWithPath: "/"), portalEndpoint: URL(fileURLWithPath: "/"))
        #expect(profile.cacheFile == "/c/\(Digest.hex(Digest.sha1(Data("https://old.awsapps.com/start".utf8)))).json")
    }
}
