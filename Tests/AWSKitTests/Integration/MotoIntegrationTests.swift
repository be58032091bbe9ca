import AWSKit
import AWSTestSupport
import Foundation
import Testing

/// AWSKit against moto_server (a third-party AWS emulator) over real HTTP through libcurl: the calls
/// of a rescue, their shapes, moto's real error answers, and SigV4 checked by moto itself.
/// The servers are started outside the test process by `scripts/test-aws-integration` (run by
/// scripts/test): moto_server twice (plain, and with signature checking on and an IAM user's key)
/// and the scripted throttling servers; their URLs and the key arrive in the environment.
enum IntegrationServers {
    static let env = ProcessInfo.processInfo.environment
    static var moto: URL? { env["KEYRESCUE_MOTO_URL"].flatMap(URL.init(string:)) }
    static var available: Bool { moto != nil }
    static let reason =
        "needs the moto servers of scripts/test-aws-integration (KEYRESCUE_MOTO_URL); scripts/test runs them"
}

@Suite(.serialized, .enabled(if: IntegrationServers.available, Comment(rawValue: IntegrationServers.reason)))
struct MotoIntegrationTests {
    static let al2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

    let moto = IntegrationServers.moto ?? URL(fileURLWithPath: "/")

    func client(
        _ endpoint: URL, region: String = "us-east-1", credentials: any CredentialProvider = MotoServer.anyCredentials
    ) -> AWSClient {
        AWSClient(region: region, credentials: credentials, endpoint: { _ in endpoint }, transport: CurlTransport())
    }

    /// The servers to run the calls against: plain moto, and moto checking every signature and
    /// policy with an IAM user's key (when scripts/test-aws-integration started it).
    static var servers: [String] {
        ["plain"] + (IntegrationServers.env["KEYRESCUE_MOTO_AUTH_URL"] == nil ? [] : ["signatures checked"])
    }

    func client(on server: String, region: String = "us-east-1") -> AWSClient {
        let env = IntegrationServers.env
        guard server != "plain", let url = env["KEYRESCUE_MOTO_AUTH_URL"].flatMap(URL.init(string:)) else {
            return client(moto, region: region)
        }
        let key = Credentials(
            accessKeyId: env["KEYRESCUE_MOTO_AUTH_KEY"] ?? "", secretAccessKey: env["KEYRESCUE_MOTO_AUTH_SECRET"] ?? "")
        return client(url, region: region, credentials: StaticCredentialProvider(key, source: "moto IAM user"))
    }

    @Test(arguments: servers)
    func theEC2CallsOfARescue(server: String) async throws {
        let ec2 = client(on: server).ec2
        let image = try await client(on: server).ssm.getParameter(Self.al2023)
        #expect(image.hasPrefix("ami-"))
        #expect(try await ec2.describeImages(ids: [image]).first?.imageId == image)
        let subnets = try await ec2.describeSubnets()
        let subnet = try #require(subnets.first { $0.availabilityZone == "us-east-1a" })
        #expect(!(try await ec2.describeRouteTables(filters: [EC2Filter("vpc-id", [subnet.vpcId ?? ""])])).isEmpty)
        #expect(
            try await ec2.describeInstanceTypeOfferings(filters: [EC2Filter("location", ["us-east-1a"])]).contains(
                "t3.micro"))
        _ = try await ec2.describeVpcEndpoints()
        _ = try await ec2.describeAddresses()
        _ = try await ec2.describeSpotInstanceRequests()
        _ = try await ec2.describeIamInstanceProfileAssociations()

        let groupName = "kr-it-\(UInt32.random(in: 0...UInt32.max))"
        let group = try await ec2.createSecurityGroup(
            name: groupName, description: "integration", vpcId: subnet.vpcId, tags: [Tag("keyrescue:run", "kr-it")])
        #expect(try await ec2.describeSecurityGroups(ids: [group]).first?.groupName == groupName)
        var request = RunInstancesRequest(
            imageId: image, instanceType: "t3.micro", clientToken: "kr-it-\(UInt32.random(in: 0...UInt32.max))")
        request.subnetId = subnet.subnetId
        request.securityGroupIds = [group]
        request.userData = "#!/bin/sh\necho hello\n"
        request.tags = [Tag("keyrescue:run", "kr-it")]
        let launched = try await ec2.runInstances(request)
        // (moto ignores ClientToken; the local cloud's own tests prove RunInstances idempotency)
        let fast = WaitSchedule.fixed(interval: 0.2, timeout: 20)
        let running = try await ec2.wait(EC2Waiters.instanceRunning, instanceIds: [launched.instanceId], schedule: fast)
        let instance = try #require(running.first)
        #expect(instance.tags.contains(Tag("keyrescue:run", "kr-it")))
        // moto's root mapping name need not equal rootDeviceName (/dev/sda1 vs /dev/xvda): take the mapping.
        let mapping = try #require(instance.blockDeviceMappings.first)
        let rootDevice = mapping.deviceName
        let root = try #require(mapping.volumeId)

        try await ec2.createTags(resources: [launched.instanceId], tags: [Tag("keyrescue:step", "x")])
        try await ec2.deleteTags(resources: [launched.instanceId], keys: ["keyrescue:step"])
        #expect(
            !(try await ec2.describeInstances(ids: [launched.instanceId]).first?.tags.contains {
                $0.key == "keyrescue:step"
            } ?? true))
        #expect(
            try await ec2.describeInstanceAttribute(instanceId: launched.instanceId, attribute: "instanceType")
                == "t3.micro")
        _ = try await ec2.getConsoleOutput(instanceId: launched.instanceId)

        let snapshot = try await ec2.createSnapshot(
            volumeId: root, description: "it", tags: [Tag("keyrescue:run", "kr-it")])
        _ = try await ec2.wait(EC2Waiters.snapshotCompleted, snapshotIds: [snapshot.snapshotId], schedule: fast)
        #expect(
            try await ec2.describeSnapshots(filters: [EC2Filter("tag:keyrescue:run", ["kr-it"])]).map(\.snapshotId) == [
                snapshot.snapshotId
            ])

        _ = try await ec2.stopInstances(ids: [launched.instanceId])
        _ = try await ec2.wait(EC2Waiters.instanceStopped, instanceIds: [launched.instanceId], schedule: fast)
        _ = try await ec2.detachVolume(volumeId: root, instanceId: launched.instanceId)
        _ = try await ec2.wait(EC2Waiters.volumeAvailable, volumeIds: [root], schedule: fast)
        _ = try await ec2.attachVolume(volumeId: root, instanceId: launched.instanceId, device: rootDevice)
        _ = try await ec2.wait(EC2Waiters.volumeInUse, volumeIds: [root], schedule: fast)
        try await ec2.setDeleteOnTermination(instanceId: launched.instanceId, device: rootDevice, true)
        _ = try await ec2.startInstances(ids: [launched.instanceId])
        _ = try await ec2.wait(EC2Waiters.instanceRunning, instanceIds: [launched.instanceId], schedule: fast)

        #expect(
            try await ec2.probePermission { _ = try await ec2.stopInstances(ids: [launched.instanceId], dryRun: true) }
                == .granted)
        #expect(
            try await ec2.describeInstances(ids: [launched.instanceId]).first?.state == .running,
            "the dry run stopped nothing")
        _ = try await ec2.terminateInstances(ids: [launched.instanceId])
        _ = try await ec2.wait(EC2Waiters.instanceTerminated, instanceIds: [launched.instanceId], schedule: fast)
        try await ec2.deleteSecurityGroup(id: group)
        try await ec2.deleteSnapshot(id: snapshot.snapshotId)
    }

    @Test(arguments: servers)
    func s3DeliveryWithPresignedURLs(server: String) async throws {
        for region in ["us-east-1", "eu-west-1"] {
            let s3 = client(on: server, region: region).s3
            let bucket = "keyrescue-it-\(region)-\(UInt32.random(in: 0...UInt32.max))"
            try await s3.createBucket(bucket)
            try await s3.putPublicAccessBlock(bucket)
            try await s3.putExpiryRule(bucket, id: "expire", prefix: "keyrescue/", days: 1)
            _ = try await s3.putObject(bucket, key: "keyrescue/r/agent", body: Data("agent bytes".utf8))
            #expect(try await s3.headObject(bucket, key: "keyrescue/r/agent")?.size == 11)
            #expect(try await s3.getObject(bucket, key: "keyrescue/r/agent") == Data("agent bytes".utf8))
            // moto 5.2.1 answers 500 to any presigned URL once it checks signatures (its bug), so the
            // presigned round trip runs on the plain server (the SigV4 vectors check presigning itself).
            if server == "plain" {
                let get = try await s3.presign(method: "GET", bucket: bucket, key: "keyrescue/r/agent", expires: 300)
                #expect(try await send("GET", get) == "agent bytes")
                let put = try await s3.presign(
                    method: "PUT", bucket: bucket, key: "keyrescue/r/report.json", expires: 300)
                _ = try await send("PUT", put, body: Data("{\"ok\":true}".utf8))
                #expect(try await s3.getObject(bucket, key: "keyrescue/r/report.json") == Data("{\"ok\":true}".utf8))
            }
            try await s3.deleteObject(bucket, key: "keyrescue/r/agent")
            #expect(try await s3.headObject(bucket, key: "keyrescue/r/agent") == nil)
        }
    }

    @Test func errorsAreDecodedFromMotosAnswers() async throws {
        let aws = client(moto)
        try await expectError("InvalidInstanceID.NotFound", status: 400) {
            _ = try await aws.ec2.describeInstances(ids: ["i-0123456789abcdef0"])
        }
        try await expectError("InvalidVolume.NotFound", status: 400) {
            _ = try await aws.ec2.describeVolumes(ids: ["vol-0123456789abcdef0"])
        }
        try await expectError("NoSuchBucket", status: 404) {
            _ = try await aws.s3.getObject("no-such-bucket-kr", key: "x")
        }
        try await expectError("ParameterNotFound", status: 400) {
            _ = try await aws.ssm.getParameter("/no/such/parameter")
        }
        try await expectError("NotFoundException", status: 400) {
            _ = try await aws.kms.describeKey("alias/no-such-key")
        }
    }

    @Test func stsIdentityAndAssumeRole() async throws {
        let sts = client(moto).sts
        #expect(try await sts.getCallerIdentity().account.count == 12)
        let assumed = try await sts.assumeRole(
            AssumeRoleRequest(
                roleArn: "arn:aws:iam::123456789012:role/keyrescue", roleSessionName: "kr-it", region: "us-east-1",
                endpoint: moto),
            using: try await MotoServer.anyCredentials.credentials())
        #expect(assumed.accessKeyId.hasPrefix("ASIA") && assumed.sessionToken != nil && assumed.expiration != nil)
    }

    @Test func kmsKeyAndWebIdentity() async throws {
        let aws = client(moto)
        let keyID = try #require(IntegrationServers.env["KEYRESCUE_MOTO_KMS_KEY"])
        let key = try await aws.kms.describeKey(keyID)
        #expect(key.keyId == keyID && key.keyState == "Enabled")
        let credentials = try await aws.sts.assumeRoleWithWebIdentity(
            AssumeRoleWithWebIdentityRequest(
                roleArn: "arn:aws:iam::123456789012:role/keyrescue-ci", roleSessionName: "kr-it",
                webIdentityToken: "token-from-the-ci",
                region: "us-east-1", endpoint: moto))
        #expect(credentials.accessKeyId.hasPrefix("ASIA") && credentials.sessionToken != nil)
    }

    /// A role profile, resolved the AWS CLI's way from a temporary HOME, assumes the role at moto's STS.
    @Test func aProfileThatAssumesARole() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("kr-home-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createDirectory(
            at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        try
            "[profile rescuer]\nrole_arn = arn:aws:iam::123456789012:role/keyrescue\nsource_profile = base\nregion = eu-west-1\n"
            .write(to: home.appendingPathComponent(".aws/config"), atomically: true, encoding: .utf8)
        try "[base]\naws_access_key_id = AKIABASEPROFILE00000\naws_secret_access_key = base-secret\n"
            .write(to: home.appendingPathComponent(".aws/credentials"), atomically: true, encoding: .utf8)
        let transport = CurlTransport()
        let assumer = STSClient(
            client: ServiceClient(
                service: "sts", endpoint: moto, region: "us-east-1", credentials: MotoServer.anyCredentials,
                transport: transport))
        let config = try await AWSConfigResolver.resolve(
            options: AWSConfigOptions(profile: "rescuer", endpointURL: moto.absoluteString),
            environment: ["HOME": home.path],
            home: home.path,
            dependencies: AWSConfigDependencies(transport: transport, roleAssumer: assumer, mfaPrompt: nil))
        #expect(config.region == "eu-west-1")
        let credentials = try await config.credentialProvider.credentials()
        #expect(credentials.accessKeyId.hasPrefix("ASIA") && credentials.sessionToken != nil)
        let identity = try await AWSClient(config: config, transport: transport).sts.getCallerIdentity()
        #expect(identity.arn.contains("assumed-role/keyrescue"))
    }

    @Test(
        .enabled(
            if: IntegrationServers.env["KEYRESCUE_MOTO_AUTH_URL"] != nil, Comment(rawValue: IntegrationServers.reason)))
    func motoChecksOurSignatures() async throws {
        let env = IntegrationServers.env
        let endpoint = try #require(env["KEYRESCUE_MOTO_AUTH_URL"].flatMap(URL.init(string:)))
        let key = Credentials(
            accessKeyId: env["KEYRESCUE_MOTO_AUTH_KEY"] ?? "", secretAccessKey: env["KEYRESCUE_MOTO_AUTH_SECRET"] ?? "")
        let good = client(endpoint, credentials: StaticCredentialProvider(key, source: "test"))
        _ = try await good.ec2.describeInstances()
        _ = try await good.sts.getCallerIdentity()
        var wrong = key
        wrong.secretAccessKey = "not-the-secret"
        let bad = client(endpoint, credentials: StaticCredentialProvider(wrong, source: "test"))
        await #expect { _ = try await bad.ec2.describeInstances() } throws: { error in
            guard let error = error as? AWSError else { return false }
            return ["AuthFailure", "SignatureDoesNotMatch"].contains(error.code)
                && (error.httpStatus == 401 || error.httpStatus == 403)
        }
    }

    func expectError(_ code: String, status: Int, _ call: () async throws -> Void) async throws {
        do {
            try await call()
            Issue.record("expected \(code)")
        } catch let error as AWSError {
            #expect(error.code == code)
            #expect(error.httpStatus == status)
            #expect(!error.message.isEmpty)
            #expect(error.requestId != nil || error.service == "s3")
        }
    }

    func send(_ method: String, _ url: URL, body: Data = Data()) async throws -> String {
        let response = try await CurlTransport().send(HTTPRequest(method: method, url: url, body: body))
        guard (200..<300).contains(response.status) else {
            throw AWSError(
                code: "HTTP\(response.status)", message: String(decoding: response.body, as: UTF8.self),
                httpStatus: response.status, service: "s3", action: method)
        }
        return String(decoding: response.body, as: UTF8.self)
    }
}

/// Retries against real HTTP servers (Tests/TestSupport/scripted_server.py, started by
/// scripts/test-aws-integration) that throttle, fail or reset N times, then answer.
@Suite(
    .serialized,
    .enabled(
        if: IntegrationServers.env["KEYRESCUE_SCRIPTED_THROTTLE2"] != nil, Comment(rawValue: IntegrationServers.reason))
)
struct ThrottlingServerTests {
    func client(_ name: String, attempts: Int = 3) throws -> AWSClient {
        let url = try #require(IntegrationServers.env["KEYRESCUE_SCRIPTED_\(name)"].flatMap(URL.init(string:)))
        return AWSClient(
            region: "us-east-1", credentials: MotoServer.anyCredentials, endpoint: { _ in url },
            transport: CurlTransport(), retry: RetryPolicy(maxAttempts: attempts, baseDelay: 0.05, maxBackoff: 0.2))
    }

    @Test(arguments: ["THROTTLE2", "UNAVAILABLE2", "RESET_THROTTLE"])
    func succeedsWithinTheRetryBudget(_ server: String) async throws {
        #expect(try await client(server).ec2.describeInstances().isEmpty)
    }

    @Test func failsClearlyPastTheBudget() async throws {
        let aws = try client("THROTTLE4")
        await #expect { _ = try await aws.ec2.describeInstances() } throws: { error in
            guard let error = error as? AWSError else { return false }
            return error.code == "RequestLimitExceeded" && error.attempts == 3
                && "\(error)".contains("after 3 attempts")
        }
    }
}

/// The credential sources that talk HTTP, against small real servers (credential_servers.py).
@Suite(.enabled(if: IntegrationServers.env["KEYRESCUE_IMDS_URL"] != nil, Comment(rawValue: IntegrationServers.reason)))
struct CredentialServerTests {
    let env = IntegrationServers.env

    @Test func imdsV2TokenThenRoleCredentialsAndRegion() async throws {
        let client = try #require(
            try IMDSClient.fromEnvironment(
                ["AWS_EC2_METADATA_SERVICE_ENDPOINT": env["KEYRESCUE_IMDS_URL"] ?? ""], transport: CurlTransport()))
        let credentials = try await IMDSCredentialProvider(client: client).credentials()
        #expect(credentials.accessKeyId == "ASIAIMDSTEST" && credentials.sessionToken == "imds-session")
        #expect(try await client.region() == "eu-central-1")
    }

    @Test func ssoProfileTakesTheCachedTokenToThePortal() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("kr-sso-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createDirectory(
            at: home.appendingPathComponent(".aws/sso/cache"), withIntermediateDirectories: true)
        try """
        [profile corp]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = Rescuer
        region = us-east-1
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = us-east-1
        """.write(to: home.appendingPathComponent(".aws/config"), atomically: true, encoding: .utf8)
        let cache = home.appendingPathComponent(".aws/sso/cache/\(Digest.hex(Digest.sha1(Data("corp".utf8)))).json")
        try
            #"{"accessToken": "token-1", "expiresAt": "2099-01-01T00:00:00Z", "region": "us-east-1", "startUrl": "https://corp.awsapps.com/start"}"#
            .write(to: cache, atomically: true, encoding: .utf8)
        let config = try await AWSConfigResolver.resolve(
            options: AWSConfigOptions(profile: "corp"),
            environment: ["HOME": home.path, "AWS_ENDPOINT_URL": env["KEYRESCUE_SSO_URL"] ?? ""],
            home: home.path,
            dependencies: AWSConfigDependencies(transport: CurlTransport(), roleAssumer: nil, mfaPrompt: nil))
        let credentials = try await config.credentialProvider.credentials()
        #expect(credentials.accessKeyId == "ASIASSOTEST" && credentials.sessionToken == "sso-session")
    }
}
