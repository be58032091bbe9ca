import Foundation

/// A failure below HTTP: nothing (or nothing whole) came back. A struct around a private code,
/// so new kinds don't break callers; `isRetryable` says whether the standard retry mode retries it.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        case connectFailed, dnsFailed, timedOut, connectionReset, tls, invalidRequest, other
    }

    let code: Code
    /// The endpoint host (never the path or query: presigned URLs carry signatures there).
    public let host: String
    /// libcurl's own words, for the curious.
    public let detail: String
    /// libcurl's CURLcode, 0 when the error did not come from curl.
    public let curlCode: Int
    /// Attempts made before giving up.
    public internal(set) var attempts: Int = 1

    public static func == (a: TransportError, b: TransportError) -> Bool { a.code == b.code && a.host == b.host }

    public var isConnectFailure: Bool { code == .connectFailed }
    public var isTimeout: Bool { code == .timedOut }
    public var isConnectionReset: Bool { code == .connectionReset }
    public var isTLSFailure: Bool { code == .tls }

    /// Connection errors and timeouts are transient; TLS and malformed requests are not.
    public var isRetryable: Bool {
        switch code {
        case .connectFailed, .dnsFailed, .timedOut, .connectionReset: true
        case .tls, .invalidRequest, .other: false
        }
    }

    public var description: String {
        attempts > 1 ? "\(summary) (after \(attempts) attempts)" : summary
    }

    var summary: String {
        switch code {
        case .connectFailed:
            "cannot connect to \(host) (\(detail)): check the endpoint, your network, or HTTPS_PROXY/NO_PROXY"
        case .dnsFailed:
            "cannot resolve \(host) (\(detail)): check the region, the endpoint URL and your DNS"
        case .timedOut:
            "\(host) did not answer in time (\(detail)): the network or the service is slow; try again"
        case .connectionReset:
            "the connection to \(host) broke (\(detail)); try again"
        case .tls:
            "TLS with \(host) failed (\(detail)): if a proxy inspects TLS, point AWS_CA_BUNDLE at its CA certificate"
        case .invalidRequest:
            "cannot send the request to \(host): \(detail)"
        case .other:
            "request to \(host) failed: \(detail)"
        }
    }
}
