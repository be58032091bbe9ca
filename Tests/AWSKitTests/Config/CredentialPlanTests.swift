@testable import AWSKit
import Testing

/// The pure decision of which credential source applies.
@Suite struct CredentialPlanTests {
    static let credentials = """
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = default-secret
        [base]
        aws_access_key_id = AKIABASE
        aws_secret_access_key = base-secret
        aws_session_token = base-token
        [self]
        aws_access_key_id = AKIASELF
        aws_secret_access_key = self-secret
        """
    static let config = """
        [profile base]
        credential_process = /bin/false
        [profile self]
        role_arn = arn:aws:iam::1:role/self
        source_profile = self
        [profile a]
        role_arn = arn:aws:iam::1:role/a
        source_profile = b
        mfa_serial = arn:aws:iam::1:mfa/me
        external_id = ext-1
        role_session_name = sess-a
        duration_seconds = 1800
        [profile b]
        role_arn = arn:aws:iam::1:role/b
        source_profile = base
        [profile loop1]
        role_arn = arn:aws:iam::1:role/l1
        source_profile = loop2
        [profile loop2]
        role_arn = arn:aws:iam::1:role/l2
        source_profile = loop1
        [profile env-role]
        role_arn = arn:aws:iam::1:role/e
        credential_source = Environment
        [profile imds-role]
        role_arn = arn:aws:iam::1:role/i
        credential_source = Ec2InstanceMetadata
        [profile bad-source]
        role_arn = arn:aws:iam::1:role/x
        credential_source = Somewhere
        [profile both]
        role_arn = arn:aws:iam::1:role/x
        credential_source = Environment
        source_profile = base
        [profile proc]
        credential_process = /usr/bin/get-creds --json
        [profile sso]
        sso_session = corp
        sso_account_id = 111122223333
        sso_role_name = Admin
        [profile legacy-sso]
        sso_start_url = https://old.awsapps.com/start
        sso_region = us-east-1
        sso_account_id = 111122223333
        sso_role_name = ReadOnly
        [profile sso-missing]
        sso_session = nowhere
        sso_account_id = 1
        sso_role_name = R
        [profile web]
        role_arn = arn:aws:iam::1:role/web
        web_identity_token_file = /var/run/token
        [profile region-only]
        region = eu-west-1
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = eu-central-1
        """

    func planner(_ env: [String: String] = [:]) -> CredentialPlanner {
        CredentialPlanner(
            profiles: AWSProfiles(config: .parse(Self.config), credentials: .parse(Self.credentials)), environment: env,
            configPath: "/h/.aws/config", credentialsPath: "/h/.aws/credentials")
    }

    func plan(_ profile: String, env: [String: String] = [:], commandLine: Bool = false, named: Bool = true) throws
        -> CredentialPlan
    {
        try planner(env).plan(
            profile: profile, profileGivenOnCommandLine: commandLine, profileNamedExplicitly: named || commandLine)
    }

    static let envKeys = [
        "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
    ]

    @Test func environmentKeysComeFirstUnlessProfileIsOnTheCommandLine() throws {
        let env = Credentials(accessKeyId: "AKIAENV", secretAccessKey: "env-secret", sessionToken: "env-token")
        #expect(try plan("default", env: Self.envKeys, named: false) == .environment(env))
        #expect(
            try plan("base", env: Self.envKeys, named: true) == .environment(env), "AWS_PROFILE does not beat env keys")
        guard case .staticProfile("base", let creds) = try plan("base", env: Self.envKeys, commandLine: true) else {
            Issue.record("--profile must win over environment keys")
            return
        }
        #expect(creds.accessKeyId == "AKIABASE" && creds.sessionToken == "base-token")
    }

    @Test func halfSetEnvironmentKeysAreAnError() {
        #expect { try plan("default", env: ["AWS_ACCESS_KEY_ID": "AKIA"]) } throws: {
            ($0 as? AWSError)?.isConfigurationFailure == true
        }
    }

    @Test func credentialsFileKeysBeatCredentialProcessWhichBeatsNothing() throws {
        guard case .staticProfile("base", _) = try plan("base") else { Issue.record("static keys first"); return }
        #expect(try plan("proc") == .process(profile: "proc", command: "/usr/bin/get-creds --json"))
    }

    @Test func roleChainsAreFollowedWithEveryParameter() throws {
        guard case .assumeRole(let a, let sourceA) = try plan("a"), case .assumeRole(let b, let sourceB) = sourceA,
            case .staticProfile("base", _) = sourceB
        else { Issue.record("a → b → base expected"); return }
        #expect(a.roleArn == "arn:aws:iam::1:role/a" && b.roleArn == "arn:aws:iam::1:role/b")
        #expect(a.mfaSerial == "arn:aws:iam::1:mfa/me" && a.externalId == "ext-1")
        #expect(a.sessionName == "sess-a" && a.durationSeconds == 1800)
    }

    @Test func aProfileMayBeItsOwnSourceWithStaticKeys() throws {
        guard case .assumeRole(_, .staticProfile("self", let creds)) = try plan("self") else {
            Issue.record("self-source"); return
        }
        #expect(creds.accessKeyId == "AKIASELF")
    }

    @Test func sourceProfileLoopsAreRefusedNamingTheChain() {
        #expect { try plan("loop1") } throws: { "\($0)".contains("loop1 → loop2 → loop1") }
    }

    @Test func credentialSources() throws {
        guard case .assumeRole(_, .environment) = try plan("env-role", env: Self.envKeys, commandLine: true) else {
            Issue.record("Environment source"); return
        }
        guard case .assumeRole(_, .instanceMetadata) = try plan("imds-role") else {
            Issue.record("IMDS source"); return
        }
        #expect { try plan("env-role", commandLine: true) } throws: {
            ($0 as? AWSError)?.isConfigurationFailure == true
        }
        #expect { try plan("bad-source") } throws: { "\($0)".contains("Ec2InstanceMetadata") }
        #expect { try plan("both") } throws: { "\($0)".contains("both") }
    }

    @Test func ssoProfilesWithSessionOrLegacyStartURL() throws {
        #expect(
            try plan("sso")
                == .sso(
                    .init(
                        profile: "sso", sessionName: "corp", startURL: "https://corp.awsapps.com/start",
                        region: "eu-central-1",
                        accountId: "111122223333", roleName: "Admin")))
        #expect(
            try plan("legacy-sso")
                == .sso(
                    .init(
                        profile: "legacy-sso", sessionName: nil, startURL: "https://old.awsapps.com/start",
                        region: "us-east-1",
                        accountId: "111122223333", roleName: "ReadOnly")))
        #expect { try plan("sso-missing") } throws: { "\($0)".contains("[sso-session nowhere]") }
    }

    @Test func webIdentityFromEnvironmentOrProfile() throws {
        let env = [
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/tok", "AWS_ROLE_ARN": "arn:aws:iam::1:role/env",
            "AWS_ROLE_SESSION_NAME": "pod",
        ]
        #expect(
            try plan("default", env: env, named: false)
                == .webIdentity(tokenFile: "/tok", roleArn: "arn:aws:iam::1:role/env", sessionName: "pod"))
        #expect(
            try plan("web")
                == .webIdentity(tokenFile: "/var/run/token", roleArn: "arn:aws:iam::1:role/web", sessionName: nil))
    }

    @Test func containerThenInstanceMetadataWhenTheProfileHasNothing() throws {
        #expect(try plan("region-only", env: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"]) == .container)
        #expect(try plan("region-only") == .instanceMetadata)
    }

    @Test func unknownProfileNamesBothFiles() {
        #expect { try plan("ghost") } throws: { error in
            let text = "\(error)"
            return text.contains("\"ghost\"") && text.contains("/h/.aws/config") && text.contains("/h/.aws/credentials")
        }
    }

    @Test func noCredentialsNamesEveryPlaceLooked() {
        #expect { try plan("region-only", env: ["AWS_EC2_METADATA_DISABLED": "true"]) } throws: { error in
            let text = "\(error)"
            return [
                "AWS_ACCESS_KEY_ID", "/h/.aws/credentials", "/h/.aws/config", "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_EC2_METADATA_DISABLED",
            ].allSatisfy(text.contains)
        }
    }
}
