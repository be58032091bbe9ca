import AWSKit
import Foundation

/// A transport that answers from a closure and remembers every request.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [HTTPRequest] = []
    private let answer: @Sendable (HTTPRequest) throws -> HTTPResponse

    init(_ answer: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) { self.answer = answer }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { seen.append(request) }
        return try answer(request)
    }

    var requests: [HTTPRequest] { lock.withLock { seen } }

    /// For sources that must not touch the network.
    static let refusing = ScriptedTransport { request in
        throw AWSError.credentials("test transport: unexpected request to \(request.url.absoluteString)")
    }
}

/// A clock tests move by hand.
final class DrivenClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_795_437_360)) { current = start }
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
    var function: CredentialClock { { self.now } }
}

/// STS stand-in: records calls and hands out numbered temporary credentials.
final class FakeRoleAssumer: RoleAssumer, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var assumed: [(AssumeRoleRequest, Credentials)] = []
    private(set) var webIdentity: [AssumeRoleWithWebIdentityRequest] = []
    let expiration: Date

    init(expiration: Date = Date(timeIntervalSince1970: 1_795_437_360 + 3600)) { self.expiration = expiration }

    func assumeRole(_ request: AssumeRoleRequest, using credentials: Credentials) async throws -> Credentials {
        let n = lock.withLock {
            assumed.append((request, credentials)); return assumed.count
        }
        return Credentials(
            accessKeyId: "ASIAROLE\(n)", secretAccessKey: "role-secret-\(n)", sessionToken: "role-token-\(n)",
            expiration: expiration)
    }

    func assumeRoleWithWebIdentity(_ request: AssumeRoleWithWebIdentityRequest) async throws -> Credentials {
        let n = lock.withLock {
            webIdentity.append(request); return webIdentity.count
        }
        return Credentials(
            accessKeyId: "ASIAWEB\(n)", secretAccessKey: "web-secret-\(n)", sessionToken: "web-token-\(n)",
            expiration: expiration)
    }

    var calls: [(AssumeRoleRequest, Credentials)] { lock.withLock { assumed } }
    var webCalls: [AssumeRoleWithWebIdentityRequest] { lock.withLock { webIdentity } }
}

/// A temporary HOME with ~/.aws files; removed by `remove()` (call it in a defer).
struct TemporaryHome {
    let path: String

    init(config: String? = nil, credentials: String? = nil) throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("keyrescue-sigv4-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(path)/.aws/sso/cache", withIntermediateDirectories: true)
        if let config { try write(".aws/config", config) }
        if let credentials { try write(".aws/credentials", credentials) }
    }

    func write(_ relative: String, _ text: String, mode: Int = 0o600) throws {
        let file = "\(path)/\(relative)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: "\(path)/\(relative)").map { String(decoding: $0, as: UTF8.self) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func jsonResponse(_ object: Any, status: Int = 200) throws -> HTTPResponse {
    HTTPResponse(
        status: status, headers: [HTTPHeader("Content-Type", "application/json")],
        body: try JSONSerialization.data(withJSONObject: object))
}
