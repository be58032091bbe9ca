/// The kinds of failure found on this side of the wire, with their words.

/// Why nothing (or nothing whole) came back.
enum TransportFailure: Sendable, Equatable {
    case connectFailed, dnsFailed, timedOut, connectionReset, tls, invalidRequest, other

    var isRetryable: Bool {
        switch self {
        case .connectFailed, .dnsFailed, .timedOut, .connectionReset: true
        case .tls, .invalidRequest, .other: false
        }
    }

    /// `host` is the endpoint host, never the path or query: presigned URLs carry signatures there.
    func summary(host: String, detail: String) -> String {
        switch self {
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

/// How a waiter ended without success.
enum WaiterOutcome: Sendable, Equatable {
    case failureState, timedOut, unexpectedError

    func summary(waiter: String, attempts: Int, elapsed: Double, lastObserved: String) -> String {
        switch self {
        case .failureState:
            "\(waiter): reached a state it cannot leave (\(lastObserved)) after \(attempts) polls"
        case .timedOut:
            "\(waiter): still not done after \(attempts) polls in \(Int(elapsed)) s (last seen: \(lastObserved))"
        case .unexpectedError:
            "\(waiter): polling failed: \(lastObserved)"
        }
    }

    var next: String? {
        switch self {
        case .timedOut: "check the resource in the AWS console, then resume"
        case .failureState, .unexpectedError: nil
        }
    }
}
