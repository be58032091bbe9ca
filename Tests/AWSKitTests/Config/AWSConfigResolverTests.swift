import AWSKit
import Foundation
import Testing

/// End to end through `AWSConfigResolver.resolve` with temporary HOME directories.
@Suite struct AWSConfigResolverTests {
    func resolve(
        _ home: TemporaryHome, options: AWSConfigOptions = AWSConfigOptions(), env: [String: String] = [:],
        transport: any HTTPTransport = ScriptedTransport.refusing, assumer: FakeRoleAssumer = FakeRoleAssumer(),
        prompt: MFAPrompt? = nil, clock: DrivenClock = DrivenClock()
    ) async throws -> ResolvedAWSConfig {
        try await AWSConfigResolver.resolve(
            options: options, environment: env, home: home.path,
            dependencies: AWSConfigDependencies(
                transport: transport, roleAssumer: assumer, mfaPrompt: prompt, clock: clock.function))
    }

    @Test func regionPrecedence() async throws {
        let home = try TemporaryHome(
            config: "[default]\nregion = profile-region\n",
            credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = S\n")
        defer { home.remove() }
        let all = ["AWS_REGION": "env-region", "AWS_DEFAULT_REGION": "default-region"]
        #expect(try await resolve(home, options: .init(region: "cli-region"), env: all).region == "cli-region")
        #expect(try await resolve(home, env: all).region == "env-region")
        #expect(try await resolve(home, env: ["AWS_DEFAULT_REGION": "default-region"]).region == "default-region")
        #expect(try await resolve(home).region == "profile-region")
    }

    @Test func regionFromInstanceMetadataWhenNothingElse() async throws {
        let home = try TemporaryHome(credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = S\n")
        defer { home.remove() }
        let imds = ScriptedTransport { request in
            if request.method == "PUT" { return HTTPResponse(status: 200, body: Data("tok".utf8)) }
            guard request.header("X-aws-ec2-metadata-token") == "tok" else { return HTTPResponse(status: 401) }
            return HTTPResponse(status: 200, body: Data("sa-east-1".utf8))
        }
        #expect(try await resolve(home, transport: imds).region == "sa-east-1")
        await #expect { try await resolve(home, env: ["AWS_EC2_METADATA_DISABLED": "true"]) } throws: { error in
            "\(error)".contains("AWS_DEFAULT_REGION") && "\(error)".contains("disabled")
        }
    }

    @Test func filesFromEnvironmentVariablesAndProfileFromAWSProfile() async throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        try home.write("elsewhere-config", "[profile work]\nregion = ca-central-1\n")
        try home.write("elsewhere-creds", "[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = work-secret\n")
        let env = [
            "AWS_CONFIG_FILE": "~/elsewhere-config", "AWS_SHARED_CREDENTIALS_FILE": "\(home.path)/elsewhere-creds",
            "AWS_PROFILE": "work",
        ]
        let config = try await resolve(home, env: env)
        #expect(config.profileName == "work" && config.region == "ca-central-1")
        #expect(try await config.credentialProvider.credentials().accessKeyId == "AKIAWORK")
        await #expect {
            try await resolve(home, options: .init(profile: "missing", region: "r"), env: env)
        } throws: {
            ($0 as? AWSError)?.isConfigurationFailure == true
                && ($0 as? AWSError)?.next?.contains("aws configure list-profiles") == true
        }
    }

    @Test func roleProfileAssumesWithMFAThroughTheRoleAssumer() async throws {
        let home = try TemporaryHome(
            config: """
                [profile admin]
                region = eu-west-2
                role_arn = arn:aws:iam::123456789012:role/Admin
                source_profile = base
                mfa_serial = arn:aws:iam::123456789012:mfa/alice
                external_id = xid
                duration_seconds = 3600
                """,
            credentials: "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
        defer { home.remove() }
        let assumer = FakeRoleAssumer()
        let clock = DrivenClock()
        let config = try await resolve(
            home, options: .init(profile: "admin"), env: ["AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9/"],
            assumer: assumer, prompt: { serial in serial.hasSuffix("alice") ? "123456\n" : "" }, clock: clock)
        let creds = try await config.credentialProvider.credentials()
        #expect(creds.accessKeyId == "ASIAROLE1")
        _ = try await config.credentialProvider.credentials()  // cached: no second STS call
        let calls = assumer.calls
        try #require(calls.count == 1)
        let (request, source) = calls[0]
        #expect(source.accessKeyId == "AKIABASE")
        #expect(request.roleArn == "arn:aws:iam::123456789012:role/Admin" && request.tokenCode == "123456")
        #expect(request.externalId == "xid" && request.durationSeconds == 3600 && request.region == "eu-west-2")
        #expect(request.endpoint.absoluteString == "http://127.0.0.1:9/")
        #expect(request.roleSessionName.hasPrefix("keyrescue-"))
        clock.advance(3600 - 200)  // inside the refresh window: a new AssumeRole
        #expect(try await config.credentialProvider.credentials().accessKeyId == "ASIAROLE2")
    }

    @Test func mfaWithoutAPromptIsAClearError() async throws {
        let home = try TemporaryHome(
            config:
                "[default]\nregion = r\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = default\nmfa_serial = arn:mfa\n",
            credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = S\n")
        defer { home.remove() }
        let config = try await resolve(home)
        await #expect { try await config.credentialProvider.credentials() } throws: { "\($0)".contains("MFA") }
    }

    @Test func webIdentityReadsTheTokenFileUnsigned() async throws {
        let home = try TemporaryHome()
        defer { home.remove() }
        try home.write("token", "eyJ.web.token\n")
        let assumer = FakeRoleAssumer()
        let env = [
            "AWS_REGION": "us-west-1", "AWS_WEB_IDENTITY_TOKEN_FILE": "\(home.path)/token",
            "AWS_ROLE_ARN": "arn:aws:iam::1:role/pod", "AWS_ROLE_SESSION_NAME": "pod-1",
        ]
        let config = try await resolve(home, env: env, assumer: assumer)
        #expect(try await config.credentialProvider.credentials().accessKeyId == "ASIAWEB1")
        #expect(assumer.webCalls.first?.webIdentityToken == "eyJ.web.token")
        #expect(assumer.webCalls.first?.roleSessionName == "pod-1")
        #expect(assumer.webCalls.first?.endpoint.host == "sts.us-west-1.amazonaws.com")
        #expect(!"\(assumer.webCalls[0])".contains("eyJ"), "the request's description hides the token")
    }

    @Test func endpointPrecedence() async throws {
        let home = try TemporaryHome(
            config: """
                [default]
                region = eu-west-1
                endpoint_url = http://profile-global:1
                services = local
                [services local]
                ssm =
                  endpoint_url = http://profile-ssm:2
                """,
            credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = S\n")
        defer { home.remove() }
        var config = try await resolve(
            home, env: ["AWS_ENDPOINT_URL_EC2": "http://env-ec2:3", "AWS_ENDPOINT_URL": "http://env-global:4"])
        #expect(config.endpoint(for: "ec2").absoluteString == "http://env-ec2:3")
        #expect(config.endpoint(for: "ssm").absoluteString == "http://profile-ssm:2")
        #expect(config.endpoint(for: "s3").absoluteString == "http://env-global:4")
        config = try await resolve(home)
        #expect(config.endpoint(for: "kms").absoluteString == "http://profile-global:1")
        config = try await resolve(
            home, options: .init(endpointURL: "http://127.0.0.1:5000"),
            env: ["AWS_ENDPOINT_URL_EC2": "http://env-ec2:3"])
        #expect(config.endpoint(for: "ec2").absoluteString == "http://127.0.0.1:5000")
        config = try await resolve(
            home, env: ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL_EC2": "http://x:1"])
        #expect(config.endpoint(for: "ec2").absoluteString == "https://ec2.eu-west-1.amazonaws.com")
        #expect(
            AWSEndpoints.defaultURL(for: "sso", region: "eu-central-1").host == "portal.sso.eu-central-1.amazonaws.com")
        #expect(
            AWSEndpoints.defaultURL(for: "sso-oidc", region: "cn-north-1").host == "oidc.cn-north-1.amazonaws.com.cn")
    }

    @Test func caBundleFromEnvironmentThenProfile() async throws {
        let home = try TemporaryHome(
            config: "[default]\nregion = r\nca_bundle = ~/corp.pem\n",
            credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = S\n")
        defer { home.remove() }
        #expect(try await resolve(home).caBundle == "\(home.path)/corp.pem")
        #expect(try await resolve(home, env: ["AWS_CA_BUNDLE": "/etc/ca.pem"]).caBundle == "/etc/ca.pem")
    }
}
