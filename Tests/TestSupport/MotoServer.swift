import AWSKit
import Foundation

/// moto_server (PyPI `moto[server]`) on 127.0.0.1 and a free port, for AWSKit's and the
/// controller's integration tests. Each test gets its own server (fresh state) and stops it:
///
///     let moto = try MotoServer.start()
///     defer { moto.stop() }
///     let client = AWSClient(region: "us-east-1", credentials: MotoServer.anyCredentials,
///                            endpoint: { _ in moto.endpoint }, transport: CurlTransport())
///
/// Signature checking: `try await moto.enableSignatureChecking()` creates an IAM user with an
/// admin policy and an access key (while moto still accepts anything), then turns moto's
/// authentication on for every later request (the same switch as INITIAL_NO_AUTH_ACTION_COUNT=0)
/// and returns the key. From then on a wrong secret fails with SignatureDoesNotMatch.
public final class MotoServer: Sendable {
    public let server: LocalProcessServer
    public var endpoint: URL { server.endpoint }
    public var port: Int { server.port }

    /// Any key works while signature checking is off.
    public static let anyCredentials = StaticCredentialProvider(
        Credentials(accessKeyId: "AKIAMOTOTESTING00000", secretAccessKey: "moto-testing-secret"),
        source: "the moto fixture")

    /// True when `moto_server` is on PATH (scripts/setup installs it).
    public static var isInstalled: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/moto_server")
        }
    }

    private init(server: LocalProcessServer) { self.server = server }

    public static func start() throws -> MotoServer {
        MotoServer(
            server: try LocalProcessServer(
                executable: "moto_server", arguments: ["-H", "127.0.0.1", "-p", "0"],
                environment: ["MOTO_ALLOW_NONEXISTENT_REGION": "true"],
                portPattern: #"Running on http://127\.0\.0\.1:(\d+)"#))
    }

    public func stop() { server.stop() }

    /// Creates an admin IAM user and key, then turns signature checking on. Returns the key.
    public func enableSignatureChecking(userName: String = "keyrescue-test") throws -> Credentials {
        let script = """
            import boto3, sys
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                               aws_access_key_id="x", aws_secret_access_key="x")
            iam.create_user(UserName=sys.argv[2])
            iam.attach_user_policy(UserName=sys.argv[2], PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
            key = iam.create_access_key(UserName=sys.argv[2])["AccessKey"]
            print(key["AccessKeyId"]); print(key["SecretAccessKey"])
            import urllib.request
            urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/moto-api/reset-auth", data=b"0", method="POST")).read()
            """
        let output = try Self.run("python3", ["-c", script, endpoint.absoluteString, userName])
        let lines = output.split(separator: "\n").map(String.init)
        guard lines.count >= 2 else {
            throw LocalProcessServer.StartError(description: "moto IAM setup printed: \(output)")
        }
        return Credentials(accessKeyId: lines[0], secretAccessKey: lines[1])
    }

    /// Runs a helper to completion; its stdout, or an error with its output.
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw LocalProcessServer.StartError(
                description: "\(executable) failed (\(process.terminationStatus)): \(text)")
        }
        return text
    }
}
