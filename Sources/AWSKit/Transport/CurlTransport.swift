import CCurl
import Foundation
import Logging

/// The real `HTTPTransport`, on libcurl. TLS verification stays on; `caBundle` (AWS_CA_BUNDLE)
/// replaces the system CAs. Connections are reused through a pool of easy handles (curl keeps
/// each handle's connections alive). Proxies come from the environment (`HTTPS_PROXY`,
/// `NO_PROXY`), which curl reads itself. Redirects are never followed: AWS does not send them
/// to correct clients, and following one would re-send signed headers elsewhere.
/// Blocking curl calls run on a dedicated dispatch queue, never on Swift's cooperative pool.
public struct CurlTransport: HTTPTransport {
    /// Settings; every field has a default.
    public struct Configuration: Sendable {
        /// Seconds to open the TCP connection and finish TLS. Default 10.
        public var connectTimeout: Double
        /// Seconds for the whole exchange, body included. Default 300 (uploads of the agent).
        public var totalTimeout: Double
        /// A PEM file of trusted CAs, instead of the system's (AWS_CA_BUNDLE). Default none.
        public var caBundle: String?
        /// Idle handles (and so open connections) kept for reuse. Default 8.
        public var maxIdleHandles: Int
        /// Sent when a request has no User-Agent of its own. Default "keyrescue".
        public var userAgent: String

        public init(
            connectTimeout: Double = 10, totalTimeout: Double = 300, caBundle: String? = nil, maxIdleHandles: Int = 8,
            userAgent: String = "keyrescue"
        ) {
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.caBundle = caBundle
            self.maxIdleHandles = maxIdleHandles
            self.userAgent = userAgent
        }
    }

    public let configuration: Configuration
    let pool: CurlHandlePool
    let logger: Logger

    static let queue = DispatchQueue(label: "keyrescue.awskit.curl", attributes: .concurrent)

    public init(
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "keyrescue.awskit.transport", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.pool = CurlHandlePool(maxIdle: configuration.maxIdleHandles)
        self.logger = logger
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        logger.debug("→ \(request.method) \(Redaction.url(request.url))")
        logger.trace("  headers: \(Redaction.headers(request.headers))")
        let started = DispatchTime.now()
        let pool = self.pool
        let configuration = self.configuration
        let result: Result<HTTPResponse, AWSError> = await withCheckedContinuation { continuation in
            Self.queue.async {
                continuation.resume(
                    returning: Result { () throws(AWSError) in
                        try pool.perform(request, configuration: configuration)
                    })
            }
        }
        let millis = (DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000
        switch result {
        case .success(let response):
            logger.debug("← \(response.status) from \(request.url.host ?? "?") in \(millis) ms")
            return response
        case .failure(let error):
            logger.debug("✗ \(error) after \(millis) ms")
            throw error
        }
    }
}
