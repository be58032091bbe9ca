import Foundation

/// Which credential source applies, decided from the files and environment alone (no I/O), in
/// the AWS CLI's order. `CredentialPlan.provider(…)` turns it into a provider.
public indirect enum CredentialPlan: Sendable, Equatable {
    case environment(Credentials)
    case staticProfile(profile: String, Credentials)
    case assumeRole(AssumeRolePlan, source: CredentialPlan)
    case webIdentity(tokenFile: String, roleArn: String, sessionName: String?)
    case sso(SSOPlan)
    case process(profile: String, command: String)
    case container
    case instanceMetadata

    public struct AssumeRolePlan: Sendable, Equatable {
        public var profile: String
        public var roleArn: String
        public var sessionName: String?
        public var externalId: String?
        public var durationSeconds: Int?
        public var mfaSerial: String?
    }

    public struct SSOPlan: Sendable, Equatable {
        public var profile: String
        public var sessionName: String?
        public var startURL: String
        public var region: String
        public var accountId: String
        public var roleName: String
    }
}

/// The pure decision: profiles + environment + whether `--profile` was given → a plan.
struct CredentialPlanner {
    let profiles: AWSProfiles
    let environment: [String: String]
    /// Where the files were (for messages).
    let configPath: String
    let credentialsPath: String

    /// The CLI's order: environment keys (unless `--profile` was given), a role profile,
    /// web identity, SSO, credentials-file keys, credential_process, config-file keys, then
    /// container and instance metadata. Throws when nothing applies, naming every place.
    func plan(profile name: String, profileGivenOnCommandLine: Bool, profileNamedExplicitly: Bool) throws
        -> CredentialPlan
    {
        if !profileGivenOnCommandLine,
            let env = try environmentCredentials(for: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
        {
            return .environment(env)
        }
        if profileNamedExplicitly && name != "default" && !profiles.exists(name) {
            throw AWSError.configuration(
                "profile \"\(name)\" not found in \(configPath) ([profile \(name)]) or \(credentialsPath) ([\(name)])",
                next:
                    "list the profiles with `aws configure list-profiles`, or create it with `aws configure --profile \(name)`"
            )
        }
        if let plan = try profilePlan(name, visited: [], allowEnvironmentWebIdentity: true) { return plan }
        if containerConfigured { return .container }
        if !imdsDisabled { return .instanceMetadata }
        throw AWSError.noCredentials(looked: placesLooked(profile: name))
    }

    var containerConfigured: Bool {
        !(environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] ?? "").isEmpty
            || !(environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] ?? "").isEmpty
    }

    var imdsDisabled: Bool { environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" }

    /// Every source tried, for the "no credentials" message (and IMDS's failure message).
    func placesLooked(profile name: String) -> [String] {
        [
            "environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set)",
            "profile \"\(name)\" in \(credentialsPath) and \(configPath) (\(profiles.exists(name) ? "no credentials in it" : "absent"))",
            "web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set)",
            "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI not set)",
            imdsDisabled ? "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)" : "instance metadata (IMDSv2)",
        ]
    }

    func environmentCredentials(for what: String) throws -> Credentials? {
        let id = environment["AWS_ACCESS_KEY_ID"] ?? ""
        let secret = environment["AWS_SECRET_ACCESS_KEY"] ?? ""
        if id.isEmpty && secret.isEmpty { return nil }
        guard !id.isEmpty, !secret.isEmpty else {
            throw AWSError.configuration(
                "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set: set both or neither")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
    }

    func staticKeys(_ keys: [String: String]?) -> Credentials? {
        guard let keys, let id = keys["aws_access_key_id"], let secret = keys["aws_secret_access_key"],
            !id.isEmpty, !secret.isEmpty
        else { return nil }
        let token = keys["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
    }

    /// A profile's own credentials; `visited` holds the role chain so far (cycle detection).
    func profilePlan(_ name: String, visited: [String], allowEnvironmentWebIdentity: Bool) throws -> CredentialPlan? {
        let keys = profiles.merged(name)
        if let roleArn = keys["role_arn"], !roleArn.isEmpty,
            keys["source_profile"] != nil || keys["credential_source"] != nil
        {
            return try rolePlan(name, keys: keys, roleArn: roleArn, visited: visited)
        }
        if allowEnvironmentWebIdentity, let file = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], !file.isEmpty,
            let roleArn = environment["AWS_ROLE_ARN"], !roleArn.isEmpty
        {
            return .webIdentity(tokenFile: file, roleArn: roleArn, sessionName: environment["AWS_ROLE_SESSION_NAME"])
        }
        if let file = keys["web_identity_token_file"], !file.isEmpty {
            guard let roleArn = keys["role_arn"], !roleArn.isEmpty else {
                throw AWSError.configuration("profile \"\(name)\" has web_identity_token_file but no role_arn")
            }
            return .webIdentity(tokenFile: file, roleArn: roleArn, sessionName: keys["role_session_name"])
        }
        if let roleArn = keys["role_arn"], !roleArn.isEmpty {
            throw AWSError.configuration(
                "profile \"\(name)\" has role_arn but neither source_profile nor credential_source")
        }
        if keys["sso_session"] != nil || keys["sso_start_url"] != nil || keys["sso_account_id"] != nil {
            return .sso(try ssoPlan(name, keys: keys))
        }
        if let creds = staticKeys(profiles.credentialsProfiles[name]) { return .staticProfile(profile: name, creds) }
        if let command = keys["credential_process"], !command.isEmpty {
            return .process(profile: name, command: command)
        }
        if let creds = staticKeys(profiles.configProfiles[name]) { return .staticProfile(profile: name, creds) }
        return nil
    }
}
