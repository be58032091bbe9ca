import Foundation
import Logging

/// One service's connection: where it lives, how to sign, how to retry. Every call goes through
/// `execute`: sign (fresh date and credentials per attempt), send, decode errors, retry.
public struct ServiceClient: Sendable {
    /// The SigV4 signing name (`ec2`, `s3`, `ssm`, `kms`, `sts`).
    public let service: String
    public let endpoint: URL
    public let region: String
    let credentials: any CredentialProvider
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let quota: RetryQuota
    let clock: any AWSClock
    let logger: Logger

    public init(
        service: String, endpoint: URL, region: String, credentials: any CredentialProvider,
        transport: any HTTPTransport,
        retry: RetryPolicy = RetryPolicy(), quota: RetryQuota = RetryQuota(), clock: any AWSClock = SystemClock(),
        logger: Logger = Logger(label: "keyrescue.awskit", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.service = service
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.quota = quota
        self.clock = clock
        self.logger = logger
    }

    /// How a call may be retried.
    public enum Idempotency: Sendable {
        /// Reads, and writes that are safe to repeat.
        case idempotent
        /// A write that creates something; retried only when it carries a client token.
        case nonIdempotent(clientToken: String?)

        var mayRetry: Bool {
            switch self {
            case .idempotent: true
            case .nonIdempotent(let token): token != nil
            }
        }
    }

    /// Signs and sends `request`, retrying in the standard mode. Returns a 2xx response or throws
    /// an `AWSError`: the service said no, or nothing came back (`isTransportFailure`).
    public func execute(
        _ request: HTTPRequest, action: String, idempotency: Idempotency = .idempotent,
        payload: SigV4Signer.Payload = .signed, signed: Bool = true
    ) async throws -> HTTPResponse {
        var attempt = 1
        var spent = 0
        while true {
            let outcome: Result<HTTPResponse, any Error>
            do {
                let prepared = signed ? try await sign(request, payload: payload) : request
                let response = try await transport.send(prepared)
                if (200..<300).contains(response.status) {
                    outcome = .success(response)
                } else {
                    outcome = .failure(AWSErrorDecoder.decode(response, service: service, action: action))
                }
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response):
                quota.release(spent)
                logger.debug(
                    "\(service) \(action): HTTP \(response.status), request id \(Self.requestId(response) ?? "none")")
                return response
            case .failure(let error):
                // A throttling answer means the service refused the call before doing anything, so
                // even a call without a client token is safe to send again; a 5xx or a reset is not.
                let refusedUnrun = (error as? AWSError)?.isThrottling == true
                guard idempotency.mayRetry || refusedUnrun, attempt < retry.maxAttempts,
                    case .retry(let timeout) = RetryClassifier.classify(error),
                    let cost = quota.acquire(timeout: timeout)
                else {
                    logger.debug("\(service) \(action): \(Self.short(error)), giving up after \(attempt) attempt(s)")
                    throw Self.annotate(error, attempts: attempt)
                }
                spent += cost
                let delay = retry.backoff(afterAttempt: attempt)
                logger.info(
                    "\(service) \(action): \(Self.short(error)); retry \(attempt + 1)/\(retry.maxAttempts) in \(String(format: "%.1f", delay)) s"
                )
                try await clock.sleep(seconds: delay)
                attempt += 1
            }
        }
    }

    func sign(_ request: HTTPRequest, payload: SigV4Signer.Payload) async throws -> HTTPRequest {
        let signer = SigV4Signer(credentials: try await credentials.credentials(), region: region, service: service)
        return signer.signHeaders(request, date: clock.now(), payload: payload).request
    }

    static func annotate(_ error: any Error, attempts: Int) -> any Error {
        if var error = error as? AWSError { error.attempts = attempts; return error }
        return error
    }

    static func short(_ error: any Error) -> String {
        if let error = error as? AWSError, error.isServiceAnswer {
            return "\(error.code) (HTTP \(error.httpStatus), request id \(error.requestId ?? "none"))"
        }
        return "\(error)"
    }

    /// The request id AWS gives every answer (EC2, STS and SSM: x-amzn-RequestId; S3: x-amz-request-id).
    static func requestId(_ response: HTTPResponse) -> String? {
        response.headers.first(named: "x-amzn-RequestId") ?? response.headers.first(named: "x-amz-request-id")
    }

    /// `endpoint` + path (already percent-encoded) + query.
    func url(path: String = "/", query: [(String, String?)] = []) -> URL {
        var text = endpoint.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += path.hasPrefix("/") ? path : "/" + path
        let items = query.map { name, value in
            value.map { "\(QueryParameters.encode(name))=\(QueryParameters.encode($0))" }
                ?? QueryParameters.encode(name)
        }
        if !items.isEmpty { text += "?" + items.joined(separator: "&") }
        return URL(string: text) ?? endpoint
    }
}

extension ServiceClient {
    /// A query-protocol call (EC2, STS): form POST, XML answer.
    func query(_ action: String, version: String, _ params: QueryParameters, idempotency: Idempotency = .idempotent)
        async throws -> XMLElement
    {
        let request = HTTPRequest(
            method: "POST", url: url(),
            headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: params.formEncoded(action: action, version: version))
        let response = try await execute(request, action: action, idempotency: idempotency)
        return try Self.xml(response, service: service, action: action)
    }

    /// A JSON 1.1 call (SSM, KMS): POST with `X-Amz-Target: <prefix>.<Action>`.
    func json(_ action: String, targetPrefix: String, _ body: [String: any Sendable]) async throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let request = HTTPRequest(
            method: "POST", url: url(),
            headers: [
                HTTPHeader("Content-Type", "application/x-amz-json-1.1"),
                HTTPHeader("X-Amz-Target", "\(targetPrefix).\(action)"),
            ],
            body: data)
        let response = try await execute(request, action: action)
        guard
            let object = try? JSONSerialization.jsonObject(
                with: response.body.isEmpty ? Data("{}".utf8) : response.body) as? [String: Any]
        else {
            throw AWSError(
                code: "MalformedResponse", message: "the answer is not a JSON object", httpStatus: response.status,
                service: service, action: action)
        }
        return object
    }

    static func xml(_ response: HTTPResponse, service: String, action: String) throws -> XMLElement {
        guard let root = XMLElement.parse(response.body) else {
            throw AWSError(
                code: "MalformedResponse",
                message: "the answer is not XML: \(String(decoding: response.body.prefix(200), as: UTF8.self))",
                requestId: response.header("x-amzn-RequestId"), httpStatus: response.status, service: service,
                action: action)
        }
        return root
    }
}
