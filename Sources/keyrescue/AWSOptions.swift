import AWSKit
import ArgumentParser
import Foundation
import Logging
import RescueController
import RescueModel

struct AWSOptions: ParsableArguments {
    @Option(help: "AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile, IMDS).") var region: String?
    @Option(help: "Profile from ~/.aws/config and ~/.aws/credentials.") var profile: String?
    @Option(name: .customLong("endpoint-url"), help: "Send every AWS call here (a test cloud).") var endpointURL:
        String?
    @Flag(help: "Log AWS calls on stderr: retries, waits, request ids.") var verbose = false

    /// A client whose credentials are known to work locally: they are fetched here, before any
    /// call, so missing credentials end the command with exit 2 whatever comes next.
    func client() async throws -> AWSClient {
        let env = ProcessInfo.processInfo.environment
        let logger = Self.logger(verbose: verbose)
        let userAgent = "keyrescue/\(KeyrescueVersion.current)"
        let transport = CurlTransport(configuration: .init(userAgent: userAgent), logger: logger)
        // Only its transport, retries and logger serve: each role assumption sends to its request's endpoint.
        let assumerService = ServiceClient(
            service: "sts", endpoint: URL(fileURLWithPath: "/"), region: region ?? "us-east-1",
            credentials: StaticCredentialProvider(Credentials(accessKeyId: "", secretAccessKey: ""), source: "unused"),
            transport: transport, logger: logger)
        let config: ResolvedAWSConfig
        do {
            config = try await AWSConfigResolver.resolve(
                options: AWSConfigOptions(profile: profile, region: region, endpointURL: endpointURL), environment: env,
                home: env["HOME"] ?? NSHomeDirectory(),
                dependencies: AWSConfigDependencies(
                    transport: transport, roleAssumer: STSClient(client: assumerService)))
            _ = try await config.credentialProvider.credentials()
        } catch let error as AWSError where error.isConfigurationFailure {
            // A profile, region or endpoint that cannot be resolved says its own next step.
            throw ControllerError.badInput(
                error.description, next: "\(error.next ?? "fix the AWS configuration"); nothing was changed")
        } catch {
            throw ControllerError.credentialsMissing("\(error)")
        }
        let configured =
            config.caBundle.map {
                CurlTransport(configuration: .init(caBundle: $0, userAgent: userAgent), logger: logger)
            } ?? transport
        return AWSClient(config: config, transport: configured, logger: logger)
    }

    /// Only the executable sets up logging: `--verbose` sends AWSKit's debug lines to stderr.
    static func logger(verbose: Bool) -> Logger {
        guard verbose else { return Logger(label: "keyrescue.awskit", factory: { _ in SwiftLogNoOpLogHandler() }) }
        var logger = Logger(label: "keyrescue.awskit", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .debug
        return logger
    }
}
