import Foundation

/// What the command line says (`--profile`, `--region`, `--endpoint-url`).
public struct AWSConfigOptions: Sendable, Equatable {
    public var profile: String?
    public var region: String?
    public var endpointURL: String?
    public init(profile: String? = nil, region: String? = nil, endpointURL: String? = nil) {
        self.profile = profile
        self.region = region
        self.endpointURL = endpointURL
    }
}

/// Everything a caller needs to talk to AWS, resolved the way the AWS CLI resolves it.
public struct ResolvedAWSConfig: Sendable {
    public var profileName: String
    public var region: String
    /// Caching (refreshes a few minutes before expiry); share it between clients.
    public var credentialProvider: any CredentialProvider
    /// The decision taken, for `--verbose` output and tests (no secrets in its description).
    public var credentialPlan: CredentialPlan
    public var endpoints: AWSEndpoints
    /// `AWS_CA_BUNDLE` or the profile's `ca_bundle`: a PEM file for the transport.
    public var caBundle: String?

    public func endpoint(for service: String) -> URL { endpoints.url(for: service) }
}

/// The services the resolver needs to build providers: HTTP for SSO/container/IMDS, STS (as a
/// `RoleAssumer`) for role profiles and web identity, a terminal prompt for MFA, the clock.
public struct AWSConfigDependencies: Sendable {
    public var transport: any HTTPTransport
    public var roleAssumer: (any RoleAssumer)?
    public var mfaPrompt: MFAPrompt?
    public var clock: CredentialClock

    public init(
        transport: any HTTPTransport, roleAssumer: (any RoleAssumer)?, mfaPrompt: MFAPrompt? = TerminalPrompt.mfa,
        clock: @escaping CredentialClock = { Date() }
    ) {
        self.transport = transport
        self.roleAssumer = roleAssumer
        self.mfaPrompt = mfaPrompt
        self.clock = clock
    }
}

/// The one entry point: options + environment + home directory → `ResolvedAWSConfig`.
/// Reading the two files is the only I/O here before credentials are first asked for (plus
/// IMDS for the region when nothing else names one).
public enum AWSConfigResolver {
    public static func resolve(
        options: AWSConfigOptions, environment env: [String: String], home: String, dependencies: AWSConfigDependencies
    ) async throws -> ResolvedAWSConfig {
        let configPath = expand(env["AWS_CONFIG_FILE"], home: home) ?? "\(home)/.aws/config"
        let credentialsPath = expand(env["AWS_SHARED_CREDENTIALS_FILE"], home: home) ?? "\(home)/.aws/credentials"
        let profiles = AWSProfiles(config: try load(configPath), credentials: try load(credentialsPath))
        let envProfile = nonEmpty(env["AWS_PROFILE"]) ?? nonEmpty(env["AWS_DEFAULT_PROFILE"])
        let profileName = nonEmpty(options.profile) ?? envProfile ?? "default"
        let profileKeys = profiles.merged(profileName)

        let planner = CredentialPlanner(
            profiles: profiles, environment: env, configPath: configPath, credentialsPath: credentialsPath)
        let plan = try planner.plan(
            profile: profileName, profileGivenOnCommandLine: nonEmpty(options.profile) != nil,
            profileNamedExplicitly: nonEmpty(options.profile) != nil || envProfile != nil)
        let region = try await resolveRegion(
            options: options, environment: env, profile: profileKeys, profileName: profileName,
            dependencies: dependencies)

        var commandLine: URL?
        if let text = nonEmpty(options.endpointURL) {
            guard let url = URL(string: text), url.scheme != nil, url.host != nil else {
                throw AWSError.configuration("--endpoint-url \"\(text)\" is not a URL")
            }
            commandLine = url
        }
        let services = profileKeys["services"].flatMap { profiles.services[$0] }
        let endpoints = try AWSEndpoints.resolve(
            region: region, commandLine: commandLine, environment: env, profile: profileKeys, services: services)
        let factory = CredentialProviderFactory(
            environment: env, home: home, region: region, endpoints: endpoints, dependencies: dependencies,
            placesLooked: planner.placesLooked(profile: profileName))
        return ResolvedAWSConfig(
            profileName: profileName, region: region,
            credentialProvider: try factory.provider(for: plan, topLevel: true),
            credentialPlan: plan, endpoints: endpoints,
            caBundle: expand(env["AWS_CA_BUNDLE"], home: home) ?? expand(profileKeys["ca_bundle"], home: home))
    }

    /// `--region`, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, then IMDS.
    static func resolveRegion(
        options: AWSConfigOptions, environment env: [String: String], profile: [String: String], profileName: String,
        dependencies: AWSConfigDependencies
    ) async throws -> String {
        if let region = nonEmpty(options.region) ?? nonEmpty(env["AWS_REGION"]) ?? nonEmpty(env["AWS_DEFAULT_REGION"])
            ?? nonEmpty(profile["region"])
        {
            return region
        }
        let looked = "--region, AWS_REGION, AWS_DEFAULT_REGION, region in profile \"\(profileName)\""
        guard let imds = try IMDSClient.fromEnvironment(env, transport: dependencies.transport) else {
            throw AWSError.configuration(
                "no region: set one with \(looked) (instance metadata is disabled)",
                next: "pass --region REGION, or `aws configure set region REGION`")
        }
        do {
            return try await imds.region()
        } catch {
            throw AWSError.configuration(
                "no region: set one with \(looked); instance metadata failed too: \(error)",
                next: "pass --region REGION, or `aws configure set region REGION`")
        }
    }

    /// A missing file is an empty one (as for the CLI); an unreadable one is an error.
    static func load(_ path: String) throws -> AWSConfigFile {
        guard FileManager.default.fileExists(atPath: path) else { return AWSConfigFile() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AWSError.configuration("cannot read \(path)")
        }
        return AWSConfigFile.parse(String(decoding: data, as: UTF8.self))
    }

    static func expand(_ path: String?, home: String) -> String? {
        guard let path = nonEmpty(path) else { return nil }
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        return path
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }
}
