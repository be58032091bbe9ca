import Foundation

/// A profile's `role_arn`: credentials from the source (`source_profile` or `credential_source`)
/// are traded for the role's through STS AssumeRole. Wrap in `CachedCredentialProvider`: each
/// call here is a new STS call (and, with `mfa_serial`, a new prompt).
public struct AssumeRoleCredentialProvider: CredentialProvider, CustomStringConvertible {
    public let request: AssumeRoleRequest
    let source: any CredentialProvider
    let assumer: any RoleAssumer
    let mfaPrompt: MFAPrompt?

    public init(
        request: AssumeRoleRequest, source: any CredentialProvider, assumer: any RoleAssumer, mfaPrompt: MFAPrompt?
    ) {
        self.request = request
        self.source = source
        self.assumer = assumer
        self.mfaPrompt = mfaPrompt
    }

    public func credentials() async throws -> Credentials {
        var request = request
        if let serial = request.serialNumber {
            guard let mfaPrompt else {
                throw AWSError.credentials(
                    "role \(request.roleArn) needs an MFA code for \(serial) and there is no terminal to ask it on")
            }
            request.tokenCode = try await mfaPrompt(serial).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let base = try await source.credentials()
        do {
            return try await assumer.assumeRole(request, using: base)
        } catch {
            throw AWSError.credentials(
                "AssumeRole of \(request.roleArn) failed (needs sts:AssumeRole on it and a trust policy that allows the source): \(error)"
            )
        }
    }

    public var description: String { "AssumeRole \(request.roleArn) (session \(request.roleSessionName))" }
}

/// Web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, or the profile's
/// `web_identity_token_file` + `role_arn`): the token file is read again at every refresh,
/// because the platform rotates it.
public struct WebIdentityCredentialProvider: CredentialProvider, CustomStringConvertible {
    public let tokenFile: String
    public let roleArn: String
    public let roleSessionName: String
    let region: String
    let endpoint: URL
    let assumer: any RoleAssumer

    public init(
        tokenFile: String, roleArn: String, roleSessionName: String, region: String, endpoint: URL,
        assumer: any RoleAssumer
    ) {
        self.tokenFile = tokenFile
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.region = region
        self.endpoint = endpoint
        self.assumer = assumer
    }

    public func credentials() async throws -> Credentials {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw AWSError.credentials("cannot read the web identity token file \(tokenFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let request = AssumeRoleWithWebIdentityRequest(
            roleArn: roleArn, roleSessionName: roleSessionName, webIdentityToken: token, region: region,
            endpoint: endpoint)
        do {
            return try await assumer.assumeRoleWithWebIdentity(request)
        } catch {
            throw AWSError.credentials(
                "AssumeRoleWithWebIdentity of \(roleArn) with the token in \(tokenFile) failed: \(error)")
        }
    }

    public var description: String { "web identity \(roleArn) (token file \(tokenFile))" }
}

/// The terminal MFA prompt: writes the question to /dev/tty and reads one line from it.
public enum TerminalPrompt {
    public static let mfa: MFAPrompt = { serial in
        guard let tty = FileHandle(forUpdatingAtPath: "/dev/tty") else {
            throw AWSError.credentials("an MFA code for \(serial) is needed but there is no terminal")
        }
        defer { try? tty.close() }
        tty.write(Data("Enter MFA code for \(serial): ".utf8))
        var line = [UInt8]()
        while let byte = try tty.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}
