/// Stable machine codes for why the agent failed. The raw strings are the wire format: never rename one.
/// A code added by a newer agent decodes as `.unrecognized`; its message and hint still reach the human.
public enum RescueErrorCode: String, CaseIterable, Sendable {
    case invalidJob
    case volumeNotFound
    case noLinuxRoot
    case multipleLinuxRoots
    case corruptFilesystem
    case mountFailed
    case noLoginUser
    case userNotFound
    case homeNotOnDisk
    case unsafePath
    case invalidPublicKey
    case writeFailed
    case verifyFailed
    case unsupported
    case agentDownloadFailed
    case agentHashMismatch
    case internalError
    case unrecognized
}

/// Stable codes for things that do not stop the agent but may still stop the login.
public enum RescueWarningCode: String, CaseIterable, Sendable {
    case pubkeyAuthenticationDisabled
    case userNotAllowed
    case matchBlockMayApply
    case loginShellRefuses
    case keyTypeNotAccepted
    case rootLoginRefused
    case authorizedKeysFileUnusual
    case homeOnOtherVolume
    case selinuxLabelDefaulted
    case userNotInCloudInit
    case sshdConfigUnreadable
    /// The key was already in authorized_keys behind options (command=, from=, restrict…); it was added plainly.
    case keyBehindOptions
    case unrecognized
}

/// Decodes unknown raw values as `.unrecognized` instead of failing the whole document.
public protocol TolerantCode: RawRepresentable<String>, Codable, CaseIterable {
    static var unrecognized: Self { get }
}

extension TolerantCode {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = Self(rawValue: raw) ?? .unrecognized
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

extension RescueErrorCode: TolerantCode {}
extension RescueWarningCode: TolerantCode {}
