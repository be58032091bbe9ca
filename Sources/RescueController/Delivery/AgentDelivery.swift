import AWSKit
import Foundation

/// How the agent reaches the rescue host: compressed with xz (16 MB → 4 MB), stored once per
/// agent build under a key named by the agent's SHA-256, and uploaded only when the bucket does
/// not hold that build yet — a second rescue into the same bucket uploads nothing.
///
/// Why xz alone: gzip -9 leaves 6.1 MB of the 16 MB static agent, over the 5 MB target; xz with
/// its x86 filter leaves 4.0 MB (docs/PERFORMANCE.md). Every rescue host can unpack it: the
/// bootstrap uses `xz` when the host has it and else Python's standard `lzma` module, and any
/// host that runs the user-data has Python 3, because cloud-init, which runs it, is a Python
/// program. Shipping a gzip copy as well would double the first upload for no host that needs it.
/// The bootstrap checks the SHA-256 of what it unpacked, so a damaged object never runs.
public enum AgentDelivery {
    /// Shared by every run: not under a run's prefix, so the end of a run and `keyrescue cleanup`
    /// leave it (the bucket's one-day expiry rule still removes it once unused).
    public static let sharedPrefix = "keyrescue/agents/"
    /// A stored agent older than this is uploaded again, which renews its creation date: the
    /// bucket's expiry rule (one day after creation) must not remove it while a host downloads it.
    public static let maximumReuseAge: TimeInterval = 12 * 3600

    public static func objectKey(agentSHA256: String) -> String { "\(sharedPrefix)\(agentSHA256).xz" }

    /// What `deliver` did; the bootstrap needs `key` (for its presigned URL) and the agent's SHA-256.
    public struct Outcome: Sendable, Equatable {
        public var key: String
        /// Size of the compressed agent in the bucket.
        public var compressedBytes: Int
        /// Bytes sent by this call: 0 when the bucket already held this agent.
        public var uploadedBytes: Int
    }

    /// Makes sure `bucket` holds the agent at `agentPath` (whose SHA-256 the plan recorded) under
    /// `objectKey`: HeadObject first; only when it is missing or old, PutObject of the compressed
    /// agent (`keyrescue-agent.xz` beside it, as scripts/build-agent makes it, else compressed now).
    public static func deliver(
        agentPath: String, agentSHA256: String, bucket: String, s3: some AgentStore,
        codec: some AgentCodec = XZCommand(),
        now: Date = Date()
    ) async throws -> Outcome {
        let key = objectKey(agentSHA256: agentSHA256)
        if let head = try await storedAgent(bucket: bucket, key: key, s3: s3), head.size > 0,
            let written = head.lastModified, now.timeIntervalSince(written) < maximumReuseAge
        {
            return Outcome(key: key, compressedBytes: head.size, uploadedBytes: 0)
        }
        let compressed = try compressedAgent(agentPath: agentPath, agentSHA256: agentSHA256, codec: codec)
        try await s3.putAgent(bucket, key: key, body: compressed, contentType: "application/x-xz")
        return Outcome(key: key, compressedBytes: compressed.count, uploadedBytes: compressed.count)
    }

    /// HeadObject of the shared agent; nil when it is missing. S3 answers 403, not 404, for a
    /// missing key to a caller without s3:ListBucket on the bucket (the HeadObject API reference,
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, "Permissions"), and
    /// deploy/iam-policy.json grants ListBucket only for `keyrescue cleanup`'s prefix listing:
    /// then the upload decides (a PutObject that is really forbidden says so).
    static func storedAgent(bucket: String, key: String, s3: some AgentStore) async throws -> S3ObjectHead? {
        do { return try await s3.headObject(bucket, key: key) } catch let error as AWSError
            where error.httpStatus == 403
        {
            return nil
        }
    }

    /// The compressed agent, checked to unpack to exactly the planned agent: `PATH.xz` when it is
    /// there and current, else `PATH` compressed now.
    static func compressedAgent(agentPath: String, agentSHA256: String, codec: some AgentCodec) throws -> Data {
        let artifact = agentPath + ".xz"
        if let beside = FileManager.default.contents(atPath: artifact),
            (try? codec.decompress(beside)).map(sha256Hex) == agentSHA256
        {
            return beside
        }
        guard let agent = FileManager.default.contents(atPath: agentPath) else {
            throw AgentDeliveryError("cannot read the agent at \(agentPath); run scripts/build-agent or pass --agent")
        }
        guard sha256Hex(agent) == agentSHA256 else {
            throw AgentDeliveryError("the agent at \(agentPath) changed since the plan was made; run again")
        }
        let compressed = try codec.compress(agent)
        guard try sha256Hex(codec.decompress(compressed)) == agentSHA256 else {
            throw AgentDeliveryError(
                "compressing the agent with \(codec.name) did not round-trip; check the xz installed here")
        }
        return compressed
    }

    static func sha256Hex(_ data: Data) -> String { Digest.hex(Digest.sha256(data)) }
}

/// The two S3 calls a delivery makes: the engine's cloud (RescueCloud) and a plain S3Client both serve.
public protocol AgentStore: Sendable {
    /// nil when there is no such key (404).
    func headObject(_ bucket: String, key: String) async throws -> S3ObjectHead?
    func putAgent(_ bucket: String, key: String, body: Data, contentType: String) async throws
}

extension S3Client: AgentStore {
    public func putAgent(_ bucket: String, key: String, body: Data, contentType: String) async throws {
        _ = try await putObject(bucket, key: key, body: body, contentType: contentType)
    }
}

/// A failure to get the agent into the bucket, said so that the user knows what to do.
public struct AgentDeliveryError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The engine's cloud as an agent store (HeadObject, PutObject).
struct CloudAgentStore: AgentStore {
    let cloud: any RescueCloud
    func headObject(_ bucket: String, key: String) async throws -> S3ObjectHead? {
        try await cloud.headObject(bucket, key: key)
    }
    func putAgent(_ bucket: String, key: String, body: Data, contentType: String) async throws {
        try await cloud.putObject(bucket, key: key, body: body)
    }
}
