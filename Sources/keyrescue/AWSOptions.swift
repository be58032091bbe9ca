import AWSKit
import ArgumentParser
import Foundation
import RescueController

struct AWSOptions: ParsableArguments {
    @Option(help: "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile, IMDS).") var region: String?
    @Option(help: "Profile from ~/.aws/config and ~/.aws/credentials.") var profile: String?
    @Option(name: .customLong("endpoint-url"), help: "Send every AWS call here (a test cloud).") var endpointURL: String?

    func client() async throws -> AWSClient {
        let env = ProcessInfo.processInfo.environment
        let transport = CurlTransport()
        let assumerService = ServiceClient(
            service: "sts", endpoint: URL(string: "https://sts.amazonaws.com")!, region: region ?? "us-east-1",
            credentials: StaticCredentialProvider(Credentials(accessKeyId: "", secretAccessKey: ""), source: "unused"),
            transport: transport)
        do {
            let config = try await AWSConfigResolver.resolve(
                options: AWSConfigOptions(profile: profile, region: region, endpointURL: endpointURL), environment: env,
                home: env["HOME"] ?? NSHomeDirectory(),
                dependencies: AWSConfigDependencies(transport: transport, roleAssumer: STSClient(client: assumerService)))
            let configured = config.caBundle.map { CurlTransport(configuration: .init(caBundle: $0)) } ?? transport
            return AWSClient(config: config, transport: configured)
        } catch {
            throw Fail("cannot set up AWS access: \(error)", code: 2)
        }
    }
}

/// Where the agent is: --agent, KEYRESCUE_AGENT, beside this executable, or where scripts/build-agent
/// puts it in a source checkout.
enum AgentLocator {
    static func find(_ given: String?) throws -> String {
        let env = ProcessInfo.processInfo.environment
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [given, env["KEYRESCUE_AGENT"]].compactMap { $0 }
        if candidates.isEmpty {
            candidates = [
                executable.appendingPathComponent("keyrescue-agent").path,
                executable.appendingPathComponent("../../agent/keyrescue-agent").standardized.path,
                FileManager.default.currentDirectoryPath + "/.build/agent/keyrescue-agent",
            ]
        }
        for path in candidates where FileManager.default.isReadableFile(atPath: path) {
            // The debug build beside `keyrescue` is dynamic: only a static agent runs on any host.
            if given == nil, env["KEYRESCUE_AGENT"] == nil, path.hasSuffix("debug/keyrescue-agent") { continue }
            return path
        }
        throw Fail(
            "no keyrescue-agent found (looked at \(candidates.joined(separator: ", "))): build it with scripts/build-agent, or pass --agent PATH",
            code: 2)
    }
}
