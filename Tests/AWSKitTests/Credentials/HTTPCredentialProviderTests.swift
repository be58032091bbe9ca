@testable import AWSKit
import Foundation
import Testing

/// Container and IMDS providers against scripted transports (the real-server versions are in Servers/).
@Suite struct HTTPCredentialProviderTests {
    static let document: [String: String] = [
        "Code": "Success", "AccessKeyId": "ASIAHTTP", "SecretAccessKey": "http-secret", "Token": "http-token",
        "Expiration": "2026-11-25T08:00:00Z",
    ]

    @Test func containerRelativeURIWithTokenFile() async throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        try home.write("auth", "Bearer file-token\n")
        let transport = ScriptedTransport { _ in try jsonResponse(Self.document) }
        let env = [
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "\(home.path)/auth",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-file-set",
        ]
        let provider = try #require(try ContainerCredentialProvider.fromEnvironment(env, transport: transport))
        let creds = try await provider.credentials()
        #expect(creds.accessKeyId == "ASIAHTTP" && creds.sessionToken == "http-token")
        let request = try #require(transport.requests.first)
        #expect(request.url.absoluteString == "http://169.254.170.2/v2/credentials/abc")
        #expect(request.header("Authorization") == "Bearer file-token")
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/creds", true), ("http://[::1]/c", true), ("http://169.254.170.23/c", true),
        ("https://creds.example.com/c", true), ("http://creds.example.com/c", false), ("http://10.0.0.1/c", false),
    ])
    func containerFullURIHostRules(url: String, allowed: Bool) throws {
        let env = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url]
        if allowed {
            #expect(try ContainerCredentialProvider.fromEnvironment(env, transport: ScriptedTransport.refusing) != nil)
        } else {
            #expect {
                try ContainerCredentialProvider.fromEnvironment(env, transport: ScriptedTransport.refusing)
            } throws: {
                ($0 as? AWSError)?.isCredentialFailure == true
            }
        }
    }

    @Test func imdsV2UsesASessionTokenForEveryGet() async throws {
        let transport = ScriptedTransport { request in
            switch (request.method, request.url.path()) {
            case ("PUT", "/latest/api/token"):
                guard request.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600" else {
                    return HTTPResponse(status: 400)
                }
                return HTTPResponse(status: 200, body: Data("session-token".utf8))
            case ("GET", _) where request.header("X-aws-ec2-metadata-token") != "session-token":
                return HTTPResponse(status: 401)
            case ("GET", "/latest/meta-data/iam/security-credentials/"):
                return HTTPResponse(status: 200, body: Data("rescue-role\n".utf8))
            case ("GET", "/latest/meta-data/iam/security-credentials/rescue-role"):
                return try jsonResponse(Self.document)
            default:
                return HTTPResponse(status: 404)
            }
        }
        let client = try #require(
            try IMDSClient.fromEnvironment(
                ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1/"], transport: transport))
        let creds = try await IMDSCredentialProvider(client: client).credentials()
        #expect(creds.accessKeyId == "ASIAHTTP")
        #expect(transport.requests.map(\.method) == ["PUT", "GET", "GET"])
        #expect(try IMDSClient.fromEnvironment(["AWS_EC2_METADATA_DISABLED": "TRUE"], transport: transport) == nil)
    }

    @Test func imdsWithoutARoleSaysSo() async throws {
        let transport = ScriptedTransport { request in
            request.method == "PUT"
                ? HTTPResponse(status: 200, body: Data("t".utf8)) : HTTPResponse(status: 200, body: Data())
        }
        let client = IMDSClient(endpoint: try #require(URL(string: "http://127.0.0.1:1")), transport: transport)
        await #expect { try await client.roleCredentials() } throws: { "\($0)".contains("no IAM role") }
    }

    @Test func noCredentialsAtAllNamesEverySourceAfterIMDSFails() async throws {
        let home = try TemporaryHome(config: "[default]\nregion = eu-west-1\n")
        defer { home.remove() }
        let config = try await AWSConfigResolver.resolve(
            options: .init(), environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"], home: home.path,
            dependencies: AWSConfigDependencies(transport: ScriptedTransport.refusing, roleAssumer: nil, mfaPrompt: nil)
        )
        await #expect { try await config.credentialProvider.credentials() } throws: { error in
            let text = "\(error)"
            return text.contains("no AWS credentials") && text.contains("\(home.path)/.aws/credentials")
                && text.contains("AWS_ACCESS_KEY_ID")
        }
    }
}
