import Foundation

extension CredentialPlanner {
    /// `role_arn` with `source_profile` (chains followed, cycles refused; a profile may name
    /// itself when it holds static keys) or `credential_source`.
    func rolePlan(_ name: String, keys: [String: String], roleArn: String, visited: [String]) throws -> CredentialPlan {
        var duration: Int?
        if let text = keys["duration_seconds"], !text.isEmpty {
            guard let value = Int(text), (900...43200).contains(value) else {
                throw AWSError.configuration(
                    "profile \"\(name)\": duration_seconds must be a number of seconds from 900 to 43200, got \"\(text)\""
                )
            }
            duration = value
        }
        let role = CredentialPlan.AssumeRolePlan(
            profile: name, roleArn: roleArn, sessionName: keys["role_session_name"], externalId: keys["external_id"],
            durationSeconds: duration, mfaSerial: keys["mfa_serial"].flatMap { $0.isEmpty ? nil : $0 })
        switch (keys["source_profile"], keys["credential_source"]) {
        case (.some, .some):
            throw AWSError.configuration("profile \"\(name)\" sets both source_profile and credential_source; keep one")
        case (.some(let source), nil):
            return .assumeRole(role, source: try sourceProfilePlan(source, from: name, visited: visited + [name]))
        case (nil, .some(let source)):
            return .assumeRole(role, source: try credentialSourcePlan(source, profile: name))
        case (nil, nil):
            throw AWSError.configuration(
                "profile \"\(name)\" has role_arn but neither source_profile nor credential_source")
        }
    }

    private func sourceProfilePlan(_ source: String, from name: String, visited: [String]) throws -> CredentialPlan {
        guard profiles.exists(source) else {
            throw AWSError.configuration(
                "profile \"\(name)\" names source_profile \"\(source)\", which is not in \(configPath) or \(credentialsPath)"
            )
        }
        if source == name || visited.contains(source) {
            // A profile naming itself uses its own static keys; anything else is a loop.
            if source == name,
                let creds = staticKeys(profiles.credentialsProfiles[source])
                    ?? staticKeys(profiles.configProfiles[source])
            {
                return .staticProfile(profile: source, creds)
            }
            throw AWSError.configuration("source_profile loop: \((visited + [source]).joined(separator: " → "))")
        }
        guard let plan = try profilePlan(source, visited: visited, allowEnvironmentWebIdentity: false) else {
            throw AWSError.configuration(
                "source_profile \"\(source)\" (used by \"\(name)\") has no credentials in \(credentialsPath) or \(configPath)"
            )
        }
        return plan
    }

    private func credentialSourcePlan(_ source: String, profile name: String) throws -> CredentialPlan {
        switch source {
        case "Environment":
            guard let creds = try environmentCredentials(for: source) else {
                throw AWSError.configuration(
                    "profile \"\(name)\" has credential_source = Environment but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set"
                )
            }
            return .environment(creds)
        case "Ec2InstanceMetadata":
            return .instanceMetadata
        case "EcsContainer":
            guard containerConfigured else {
                throw AWSError.configuration(
                    "profile \"\(name)\" has credential_source = EcsContainer but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI are not set"
                )
            }
            return .container
        default:
            throw AWSError.configuration(
                "profile \"\(name)\": credential_source \"\(source)\" is not one of Environment, Ec2InstanceMetadata, EcsContainer"
            )
        }
    }

    func ssoPlan(_ name: String, keys: [String: String]) throws -> CredentialPlan.SSOPlan {
        func require(_ key: String, in values: [String: String], where place: String) throws -> String {
            guard let value = values[key], !value.isEmpty else {
                throw AWSError.configuration(
                    "SSO profile \"\(name)\" lacks \(key) (\(place)); run `aws configure sso` or add it")
            }
            return value
        }
        let account = try require("sso_account_id", in: keys, where: "in [profile \(name)]")
        let role = try require("sso_role_name", in: keys, where: "in [profile \(name)]")
        if let session = keys["sso_session"], !session.isEmpty {
            guard let sessionKeys = profiles.ssoSessions[session] else {
                throw AWSError.configuration(
                    "profile \"\(name)\" names sso_session \"\(session)\" but \(configPath) has no [sso-session \(session)]"
                )
            }
            let place = "in [sso-session \(session)]"
            return .init(
                profile: name, sessionName: session,
                startURL: try require("sso_start_url", in: sessionKeys, where: place),
                region: try require("sso_region", in: sessionKeys, where: place), accountId: account, roleName: role)
        }
        let place = "in [profile \(name)]"
        return .init(
            profile: name, sessionName: nil, startURL: try require("sso_start_url", in: keys, where: place),
            region: try require("sso_region", in: keys, where: place), accountId: account, roleName: role)
    }
}
