import Foundation

/// SSM (JSON 1.1): the one call the rescue needs, GetParameter (the latest AMI ids are public parameters).
public struct SSMClient: Sendable {
    public let client: ServiceClient
    public init(client: ServiceClient) { self.client = client }

    public func getParameter(_ name: String, withDecryption: Bool = false) async throws -> String {
        let answer = try await client.json(
            "GetParameter", targetPrefix: "AmazonSSM", ["Name": name, "WithDecryption": withDecryption])
        guard let parameter = answer["Parameter"] as? [String: Any], let value = parameter["Value"] as? String else {
            throw AWSError(
                code: "MalformedResponse", message: "GetParameter answered without a value", httpStatus: 200,
                service: "ssm", action: "GetParameter")
        }
        return value
    }
}

/// KMS (JSON 1.1): DescribeKey, to tell whether an encrypted volume's key is usable.
public struct KMSClient: Sendable {
    public let client: ServiceClient
    public init(client: ServiceClient) { self.client = client }

    public struct KeyMetadata: Sendable, Equatable {
        public var keyId: String
        public var arn: String?
        /// `Enabled`, `Disabled`, `PendingDeletion`, …
        public var keyState: String?
        /// `AWS` or `CUSTOMER`.
        public var keyManager: String?
    }

    public func describeKey(_ keyId: String) async throws -> KeyMetadata {
        let answer = try await client.json("DescribeKey", targetPrefix: "TrentService", ["KeyId": keyId])
        let meta = answer["KeyMetadata"] as? [String: Any] ?? [:]
        return KeyMetadata(
            keyId: meta["KeyId"] as? String ?? keyId, arn: meta["Arn"] as? String,
            keyState: meta["KeyState"] as? String,
            keyManager: meta["KeyManager"] as? String)
    }
}
