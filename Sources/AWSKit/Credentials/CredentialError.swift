/// Why credentials could not be had. Messages name the source and what to do, never a secret.
public struct CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Why the configuration (profile, region, endpoint) could not be resolved.
public struct AWSConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
