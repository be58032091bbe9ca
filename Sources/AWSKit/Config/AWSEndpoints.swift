import Foundation

/// Which URL each service is called at, as the AWS CLI decides it:
/// 1. `--endpoint-url` (for every service: keyrescue talks to one emulator in tests),
/// 2. `AWS_ENDPOINT_URL_<SERVICE>` (`EC2`, `S3`, `SSM`, `STS`, `KMS`, `SSO`, `SSO_OIDC`),
/// 3. the profile's `services` section (`[services x]` with `ec2 =` / `  endpoint_url = …`),
/// 4. `AWS_ENDPOINT_URL`, 5. the profile's `endpoint_url`,
/// 6. the regional default. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or the profile's
/// `ignore_configured_endpoint_urls`) drops 2–5.
public struct AWSEndpoints: Sendable, Equatable {
    public var region: String
    public var commandLine: URL?
    public var perServiceEnvironment: [String: URL] = [:]
    public var perServiceProfile: [String: URL] = [:]
    public var globalEnvironment: URL?
    public var globalProfile: URL?

    public init(region: String, commandLine: URL? = nil) {
        self.region = region
        self.commandLine = commandLine
    }

    /// Builds the table from the environment, the profile and its services section.
    static func resolve(
        region: String, commandLine: URL?, environment env: [String: String],
        profile: [String: String], services: [String: String]?
    ) throws -> AWSEndpoints {
        var endpoints = AWSEndpoints(region: region, commandLine: commandLine)
        let ignore =
            (env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] ?? profile["ignore_configured_endpoint_urls"])?.lowercased()
            == "true"
        if ignore { return endpoints }
        for (name, value) in env where name.hasPrefix("AWS_ENDPOINT_URL_") && !value.isEmpty {
            let key = String(name.dropFirst("AWS_ENDPOINT_URL_".count)).lowercased()
            endpoints.perServiceEnvironment[key] = try url(value, from: name)
        }
        for (key, value) in services ?? [:] where key.hasSuffix(".endpoint_url") && !value.isEmpty {
            let service = String(key.dropLast(".endpoint_url".count)).lowercased()
            endpoints.perServiceProfile[service] = try url(value, from: "services section, \(service)")
        }
        if let value = env["AWS_ENDPOINT_URL"], !value.isEmpty {
            endpoints.globalEnvironment = try url(value, from: "AWS_ENDPOINT_URL")
        }
        if let value = profile["endpoint_url"], !value.isEmpty {
            endpoints.globalProfile = try url(value, from: "the profile's endpoint_url")
        }
        return endpoints
    }

    private static func url(_ text: String, from origin: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil
        else {
            throw AWSError.configuration("\(origin) = \"\(text)\" is not an http(s) URL")
        }
        return url
    }

    /// `sso-oidc` → `sso_oidc`, the key of both the env suffix and the services section.
    static func key(_ service: String) -> String {
        service.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
    }

    /// The URL for a service (`ec2`, `s3`, `ssm`, `sts`, `kms`, `sso`, `sso-oidc`), optionally
    /// in another region than the configured one (SSO lives in `sso_region`).
    public func url(for service: String, region: String? = nil) -> URL {
        let key = Self.key(service)
        if let url = commandLine ?? perServiceEnvironment[key] ?? perServiceProfile[key] ?? globalEnvironment
            ?? globalProfile
        {
            return url
        }
        return Self.defaultURL(for: service, region: region ?? self.region)
    }

    /// `https://ec2.eu-west-1.amazonaws.com`; SSO's portal and OIDC hosts; `.com.cn` in China.
    public static func defaultURL(for service: String, region: String) -> URL {
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        let host =
            switch key(service) {
            case "sso": "portal.sso.\(region).\(suffix)"
            case "sso_oidc": "oidc.\(region).\(suffix)"
            default: "\(service.lowercased()).\(region).\(suffix)"
            }
        return URL(string: "https://\(host)") ?? URL(fileURLWithPath: "/")
    }
}
