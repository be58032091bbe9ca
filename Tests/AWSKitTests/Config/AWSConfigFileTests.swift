import AWSKit
import Testing

@Suite struct AWSConfigFileTests {
    static let config = """
        # comment
        [default]
        region = eu-west-1
        output=json

        [profile dev]
        region = us-east-2 ; inline comment
        role_arn = arn:aws:iam::123456789012:role/dev
        source_profile = default
        s3 =
          addressing_style = path
        services = local

        [profile   spaced]
        region: ap-south-1

        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start#/
        sso_region = eu-central-1

        [services local]
        ec2 =
          endpoint_url = http://127.0.0.1:5000
        ; another comment
        [plain]
        region = ignored-in-config
        """

    @Test func parsesSectionsKeysCommentsAndSubKeys() {
        let file = AWSConfigFile.parse(Self.config)
        #expect(file.sections["default"] == ["region": "eu-west-1", "output": "json"])
        #expect(file.sections["profile dev"]?["region"] == "us-east-2")
        #expect(file.sections["profile dev"]?["s3"] == "")
        #expect(file.sections["profile dev"]?["s3.addressing_style"] == "path")
        #expect(file.sections["profile dev"]?["services"] == "local")
        #expect(file.sections["sso-session corp"]?["sso_start_url"] == "https://corp.awsapps.com/start#/")
        #expect(file.sections["services local"]?["ec2.endpoint_url"] == "http://127.0.0.1:5000")
    }

    @Test func configUsesProfilePrefixCredentialsDoesNot() {
        let credentials = AWSConfigFile.parse(
            """
            [default]
            aws_access_key_id = AKIADEFAULT
            aws_secret_access_key = s1
            [dev]
            aws_access_key_id = AKIADEV
            aws_secret_access_key = s2
            region = from-credentials
            """)
        let profiles = AWSProfiles(config: AWSConfigFile.parse(Self.config), credentials: credentials)
        #expect(profiles.configProfiles.keys.sorted() == ["default", "dev", "spaced"])
        #expect(profiles.configProfiles["spaced"]?["region"] == "ap-south-1")
        #expect(profiles.configProfiles["plain"] == nil, "[plain] in config is not a profile")
        #expect(profiles.ssoSessions["corp"]?["sso_region"] == "eu-central-1")
        #expect(profiles.services["local"]?["ec2.endpoint_url"] == "http://127.0.0.1:5000")
        #expect(profiles.merged("dev")["region"] == "from-credentials", "credentials file wins")
        #expect(profiles.merged("dev")["role_arn"] == "arn:aws:iam::123456789012:role/dev")
        #expect(profiles.exists("dev") && !profiles.exists("nope"))
    }

    @Test func linesOutsideAnySectionAndJunkAreIgnored() {
        let file = AWSConfigFile.parse("orphan = 1\n[a]\nnot a key line\nk = v = w\n")
        #expect(file.sections == ["a": ["k": "v = w"]])
    }
}
