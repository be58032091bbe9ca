@testable import AWSKit
import Foundation
import Testing

/// No provider, plan or error may show a secret key, session token or bearer token.
@Suite struct SecretRedactionTests {
    static let secrets = ["super-secret-key", "super-session-token"]
    static let creds = Credentials(
        accessKeyId: "AKIAVISIBLE", secretAccessKey: "super-secret-key", sessionToken: "super-session-token")

    func assertClean(_ text: String, _ what: String) {
        for secret in Self.secrets { #expect(!text.contains(secret), "\(what) shows a secret: \(text)") }
    }

    @Test func descriptionsOfCredentialsProvidersAndPlans() async throws {
        assertClean("\(Self.creds)", "Credentials")
        assertClean("\(StaticCredentialProvider(Self.creds, source: "env"))", "StaticCredentialProvider")
        assertClean("\(CredentialPlan.environment(Self.creds))", "CredentialPlan")
        assertClean(
            String(reflecting: CredentialPlan.staticProfile(profile: "p", Self.creds)), "CredentialPlan (debug)")
        let home = try TemporaryHome(
            credentials:
                "[default]\naws_access_key_id = AKIAVISIBLE\naws_secret_access_key = super-secret-key\naws_session_token = super-session-token\n"
        )
        defer { home.remove() }
        let config = try await AWSConfigResolver.resolve(
            options: .init(region: "r"), environment: [:], home: home.path,
            dependencies: AWSConfigDependencies(transport: ScriptedTransport.refusing, roleAssumer: nil, mfaPrompt: nil)
        )
        assertClean("\(config.credentialProvider)", "resolved provider")
        assertClean("\(config.credentialPlan)", "resolved plan")
    }

    @Test func errorsFromProvidersThatSawSecrets() async throws {
        // A role whose STS call fails: the error wraps the source credentials' failure.
        struct FailingAssumer: RoleAssumer {
            func assumeRole(_ request: AssumeRoleRequest, using credentials: Credentials) async throws -> Credentials {
                throw AWSError.credentials("AccessDenied for \(credentials)")
            }
            func assumeRoleWithWebIdentity(_ request: AssumeRoleWithWebIdentityRequest) async throws -> Credentials {
                throw AWSError.credentials("InvalidIdentityToken for \(request)")
            }
        }
        let request = AssumeRoleRequest(
            roleArn: "arn:r", roleSessionName: "s", region: "r", endpoint: URL(fileURLWithPath: "/"))
        let role = AssumeRoleCredentialProvider(
            request: request, source: StaticCredentialProvider(Self.creds, source: "t"), assumer: FailingAssumer(),
            mfaPrompt: nil)
        await #expect { try await role.credentials() } throws: { error in
            assertClean("\(error)", "AssumeRole error"); return true
        }

        let home = try TemporaryHome()
        defer { home.remove() }
        try home.write("token", "super-session-token")
        let web = WebIdentityCredentialProvider(
            tokenFile: "\(home.path)/token", roleArn: "arn:r", roleSessionName: "s", region: "r",
            endpoint: URL(fileURLWithPath: "/"), assumer: FailingAssumer())
        await #expect { try await web.credentials() } throws: { error in
            assertClean("\(error)", "web identity error"); return true
        }
        assertClean("\(web)", "web identity provider")

        // Container endpoint answering garbage that includes the secret.
        let transport = ScriptedTransport { _ in
            HTTPResponse(status: 200, body: Data(#"{"AccessKeyId": "", "SecretAccessKey": "super-secret-key"}"#.utf8))
        }
        let container = try #require(
            try ContainerCredentialProvider.fromEnvironment(
                [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/c",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "super-session-token",
                ], transport: transport))
        await #expect { try await container.credentials() } throws: { error in
            assertClean("\(error)", "container error"); return true
        }
        assertClean("\(container)", "container provider")
    }
}
