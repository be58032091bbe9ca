import Foundation

/// Turns a `CredentialPlan` into providers, each temporary one behind a refresh cache.
struct CredentialProviderFactory {
    let environment: [String: String]
    let home: String
    let region: String
    let endpoints: AWSEndpoints
    let dependencies: AWSConfigDependencies
    let placesLooked: [String]

    func provider(for plan: CredentialPlan, topLevel: Bool = false) throws -> any CredentialProvider {
        switch plan {
        case .environment(let creds):
            return StaticCredentialProvider(creds, source: "the environment")
        case .staticProfile(let profile, let creds):
            return StaticCredentialProvider(creds, source: "profile \"\(profile)\"")
        case .assumeRole(let role, let sourcePlan):
            let request = AssumeRoleRequest(
                roleArn: role.roleArn, roleSessionName: role.sessionName ?? sessionName(), externalId: role.externalId,
                durationSeconds: role.durationSeconds, serialNumber: role.mfaSerial, region: region,
                endpoint: endpoints.url(for: "sts"))
            let inner = AssumeRoleCredentialProvider(
                request: request, source: try provider(for: sourcePlan),
                assumer: try assumer(for: "role_arn in profile \"\(role.profile)\""),
                mfaPrompt: dependencies.mfaPrompt)
            return cached(inner)
        case .webIdentity(let file, let roleArn, let session):
            let inner = WebIdentityCredentialProvider(
                tokenFile: AWSConfigResolver.expand(file, home: home) ?? file, roleArn: roleArn,
                roleSessionName: session ?? sessionName(), region: region, endpoint: endpoints.url(for: "sts"),
                assumer: try assumer(for: "web identity"))
            return cached(inner)
        case .sso(let sso):
            let profile = SSOProfile(
                sessionName: sso.sessionName, startURL: sso.startURL, region: sso.region, accountId: sso.accountId,
                roleName: sso.roleName, cacheDirectory: "\(home)/.aws/sso/cache",
                oidcEndpoint: endpoints.url(for: "sso-oidc", region: sso.region),
                portalEndpoint: endpoints.url(for: "sso", region: sso.region))
            return cached(
                SSOCredentialProvider(profile: profile, transport: dependencies.transport, clock: dependencies.clock))
        case .process(_, let command):
            return cached(ProcessCredentialProvider(command: command))
        case .container:
            guard
                let container = try ContainerCredentialProvider.fromEnvironment(
                    environment, transport: dependencies.transport)
            else {
                throw AWSError.configuration(
                    "container credentials need AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI")
            }
            return cached(container)
        case .instanceMetadata:
            guard let client = try IMDSClient.fromEnvironment(environment, transport: dependencies.transport) else {
                throw AWSError.configuration("instance metadata is disabled by AWS_EC2_METADATA_DISABLED")
            }
            let imds = IMDSCredentialProvider(client: client)
            // As the chain's last resort, a failure also says where else we looked.
            return cached(topLevel ? LastResortProvider(inner: imds, placesLooked: placesLooked) : imds)
        }
    }

    private func cached(_ provider: any CredentialProvider) -> any CredentialProvider {
        CachedCredentialProvider(provider, clock: dependencies.clock)
    }

    private func assumer(for what: String) throws -> any RoleAssumer {
        guard let assumer = dependencies.roleAssumer else {
            throw AWSError.configuration("\(what) needs STS, but no RoleAssumer was given to AWSConfigResolver")
        }
        return assumer
    }

    private func sessionName() -> String { "keyrescue-\(Int(dependencies.clock().timeIntervalSince1970))" }
}

/// IMDS as the end of the chain: its failure becomes "no credentials", naming every source.
struct LastResortProvider: CredentialProvider, CustomStringConvertible {
    let inner: any CredentialProvider
    let placesLooked: [String]

    func credentials() async throws -> Credentials {
        do {
            return try await inner.credentials()
        } catch {
            throw AWSError.noCredentials(looked: placesLooked, detail: "Instance metadata: \(error)")
        }
    }

    var description: String { "\(inner)" }
}
