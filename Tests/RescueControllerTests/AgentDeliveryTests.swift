import AWSKit
import Foundation
import Synchronization
import Testing

@testable import RescueController

/// An S3 bucket in memory behind the real S3Client: answers HeadObject and PutObject as S3 does
/// (404 for a missing key, Last-Modified as an HTTP-date) and records every request.
final class ScriptedS3: HTTPTransport {
    private let state = Mutex((objects: [String: (body: Data, written: Date)](), sent: [HTTPRequest]()))
    let clock: @Sendable () -> Date
    /// What HEAD answers for a missing key: 404, or 403 for a caller without s3:ListBucket.
    let headStatus: Int

    init(clock: @escaping @Sendable () -> Date, headStatus: Int = 404) {
        self.clock = clock
        self.headStatus = headStatus
    }

    var sent: [HTTPRequest] { state.withLock { $0.sent } }
    var uploadedBytes: Int { sent.filter { $0.method == "PUT" }.map(\.body.count).reduce(0, +) }
    func object(_ path: String) -> Data? { state.withLock { $0.objects[path]?.body } }
    func store(_ path: String, _ body: Data, written: Date) { state.withLock { $0.objects[path] = (body, written) } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let path = request.url.path
        return state.withLock { s in
            s.sent.append(request)
            switch request.method {
            case "PUT":
                s.objects[path] = (request.body, clock())
                return HTTPResponse(status: 200, headers: [HTTPHeader("ETag", "\"e\"")])
            case "HEAD":
                guard let found = s.objects[path] else { return HTTPResponse(status: headStatus) }
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = TimeZone(identifier: "GMT")
                formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
                return HTTPResponse(
                    status: 200,
                    headers: [
                        HTTPHeader("Content-Length", String(found.body.count)),
                        HTTPHeader("Last-Modified", formatter.string(from: found.written)),
                    ])
            default: return HTTPResponse(status: 405)
            }
        }
    }
}

/// A reversible stand-in for xz that counts its work.
final class ReversingCodec: AgentCodec {
    let calls = Mutex(0)
    var name: String { "reverse" }
    func compress(_ data: Data) throws -> Data {
        calls.withLock { $0 += 1 }
        return Data(data.reversed())
    }
    func decompress(_ data: Data) throws -> Data { Data(data.reversed()) }
}

@Suite struct AgentDeliveryTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    func s3(_ transport: ScriptedS3) -> S3Client {
        AWSClient(
            region: "us-east-1",
            credentials: StaticCredentialProvider(
                Credentials(accessKeyId: "AKIDTEST", secretAccessKey: "s"), source: "tests"),
            endpoint: { _ in URL(string: "http://127.0.0.1:9") ?? URL(fileURLWithPath: "/") }, transport: transport,
            retry: RetryPolicy(maxAttempts: 1)
        ).s3
    }

    /// An agent file in a scratch directory and its SHA-256.
    func agent(_ bytes: String = "#!/bin/sh\necho agent\n") throws -> (path: String, sha: String, dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agent-delivery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("keyrescue-agent").path
        try Data(bytes.utf8).write(to: URL(fileURLWithPath: path))
        return (path, Digest.hex(Digest.sha256(Data(bytes.utf8))), dir)
    }

    @Test func theKeyIsNamedByTheAgentsSHA256() {
        #expect(AgentDelivery.objectKey(agentSHA256: "ab12") == "keyrescue/agents/ab12.xz")
    }

    @Test func aSecondDeliveryIntoTheSameBucketUploadsNothing() async throws {
        let (path, sha, dir) = try agent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bucket = ScriptedS3(clock: { Self.now })
        let codec = ReversingCodec()
        let first = try await AgentDelivery.deliver(
            agentPath: path, agentSHA256: sha, bucket: "b", s3: s3(bucket), codec: codec, now: Self.now)
        #expect(first.uploadedBytes > 0 && first.uploadedBytes == bucket.uploadedBytes)
        #expect(bucket.sent.map(\.method) == ["HEAD", "PUT"])
        let stored = try #require(bucket.object("/b/keyrescue/agents/\(sha).xz"))
        #expect(try codec.decompress(stored) == FileManager.default.contents(atPath: path))

        let second = try await AgentDelivery.deliver(
            agentPath: path, agentSHA256: sha, bucket: "b", s3: s3(bucket), codec: codec,
            now: Self.now.addingTimeInterval(600))
        #expect(second.uploadedBytes == 0)
        #expect(second.compressedBytes == first.compressedBytes && second.key == first.key)
        #expect(bucket.sent.map(\.method) == ["HEAD", "PUT", "HEAD"], "the second delivery only asks")
        #expect(codec.calls.withLock { $0 } == 1, "nothing is compressed when the bucket has the agent")
    }

    @Test func anObjectNearItsExpiryIsUploadedAgain() async throws {
        let (path, sha, dir) = try agent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bucket = ScriptedS3(clock: { Self.now })
        bucket.store(
            "/b/keyrescue/agents/\(sha).xz", Data("old".utf8), written: Self.now.addingTimeInterval(-13 * 3600))
        let outcome = try await AgentDelivery.deliver(
            agentPath: path, agentSHA256: sha, bucket: "b", s3: s3(bucket), codec: ReversingCodec(), now: Self.now)
        #expect(
            outcome.uploadedBytes > 0, "13 hours old: the one-day expiry rule could take it while a host downloads it")
    }

    @Test func aForbiddenHeadObjectMeansMissingWithoutListBucket() async throws {
        let (path, sha, dir) = try agent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bucket = ScriptedS3(clock: { Self.now }, headStatus: 403)
        let outcome = try await AgentDelivery.deliver(
            agentPath: path, agentSHA256: sha, bucket: "b", s3: s3(bucket), codec: ReversingCodec(), now: Self.now)
        #expect(outcome.uploadedBytes > 0)
        #expect(bucket.sent.map(\.method) == ["HEAD", "PUT"])
    }

    @Test func theCompressedArtifactBesideTheAgentIsUsedWhenItUnpacksToIt() throws {
        let (path, sha, dir) = try agent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let codec = ReversingCodec()
        let artifact = try codec.compress(Data(contentsOf: URL(fileURLWithPath: path)))
        try artifact.write(to: URL(fileURLWithPath: path + ".xz"))
        #expect(try AgentDelivery.compressedAgent(agentPath: path, agentSHA256: sha, codec: codec) == artifact)
        #expect(codec.calls.withLock { $0 } == 1, "only the test compressed")
        // A stale artifact (another build) is not trusted: the agent is compressed afresh.
        try Data("stale".utf8).write(to: URL(fileURLWithPath: path + ".xz"))
        #expect(
            try codec.decompress(AgentDelivery.compressedAgent(agentPath: path, agentSHA256: sha, codec: codec))
                == Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func anAgentChangedSinceThePlanIsRefusedWithWhatToDo() throws {
        let (path, _, dir) = try agent()
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: AgentDeliveryError.self) {
            _ = try AgentDelivery.compressedAgent(
                agentPath: path, agentSHA256: String(repeating: "0", count: 64), codec: ReversingCodec())
        }
        #expect(error?.description.contains("changed since the plan was made; run again") == true)
        let missing = #expect(throws: AgentDeliveryError.self) {
            _ = try AgentDelivery.compressedAgent(
                agentPath: dir.path + "/none", agentSHA256: "0", codec: ReversingCodec())
        }
        #expect(missing?.description.contains("run scripts/build-agent") == true)
    }

    @Test(.enabled(if: XZCommand.find() != nil, "needs the xz program"))
    func xzRoundTripsAndShrinks() throws {
        let data = Data(String(repeating: "keyrescue-agent ", count: 10_000).utf8)
        let packed = try XZCommand().compress(data)
        #expect(packed.count < data.count / 10)
        #expect(try XZCommand().decompress(packed) == data)
        #expect(throws: AgentDeliveryError.self) { try XZCommand().decompress(Data("not xz".utf8)) }
    }
}
