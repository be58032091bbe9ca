import Foundation

/// One HTTP request as AWSKit builds, signs and sends it. A value: the signer
/// returns a new request with the auth headers added.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: URL
    /// Header names keep the caller's case; the signer lowercases for the canonical form.
    public var headers: [HTTPHeader]
    public var body: Data

    public init(method: String, url: URL, headers: [HTTPHeader] = [], body: Data = Data()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// First value of a header, case-insensitively.
    public func header(_ name: String) -> String? { headers.first(named: name) }
}

/// One header line. An array of these keeps order and repeats, which a dictionary would lose.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTPHeader {
    public func first(named name: String) -> String? {
        first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// What came back. `status` is the final HTTP status (AWSKit follows no redirects).
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: Data

    public init(status: Int, headers: [HTTPHeader] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers.first(named: name) }
}

/// Sends requests. The libcurl client is the real one; tests substitute scripted ones.
/// Throws for failures below HTTP (DNS, connect, TLS, reset, timeout); any HTTP status,
/// 5xx included, is a response, not a throw.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
