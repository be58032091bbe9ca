import Foundation

/// AWSKit's one error type (async-http-client's `HTTPClientError` idiom: a struct over a private
/// kind, so new kinds do not break callers). Most are a service's error answer: `code`, `message`,
/// request id, HTTP status and the call it answered, asked about through predicates
/// (`isNotFound`, `isCapacity`, `isAccessDenied`, …). The others happen on this side: nothing came
/// back (`isTransportFailure`), no usable credentials (`isCredentialFailure`), a configuration that
/// cannot be resolved (`isConfigurationFailure`), a URL that cannot be presigned, a waiter that
/// gave up (`isWaiterTimeout`, `isWaiterFailureState`). `description` says what happened; `next`
/// what the user can do about it, where there is something.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Sendable, Equatable {
        case service
        case transport(TransportFailure, host: String, detail: String, curlCode: Int)
        case noCredentials(looked: [String])
        case credentials(next: String?)
        case configuration(next: String?)
        case signing
        case waiter(WaiterOutcome, name: String, elapsed: Double, lastObserved: String)
    }

    private var kind: Kind = .service
    /// AWS's error code (`UnauthorizedOperation`, `InvalidInstanceID.NotFound`, `NoSuchKey`);
    /// empty when no service answered.
    public var code: String
    /// The service's message, or what happened on this side.
    public var message: String
    public var requestId: String?
    /// 0 when no service answered.
    public var httpStatus: Int
    /// Signing name of the service (`ec2`, `s3`, `ssm`, `kms`, `sts`); empty when none answered.
    public var service: String
    /// The API action (`RunInstances`, `GetObject`).
    public var action: String
    /// Attempts made before giving up (retries of throttling, 5xx answers and broken connections;
    /// a waiter's polls).
    public var attempts: Int = 1

    /// A service's error answer.
    public init(
        code: String, message: String, requestId: String? = nil, httpStatus: Int, service: String, action: String
    ) {
        self.code = code
        self.message = message
        self.requestId = requestId
        self.httpStatus = httpStatus
        self.service = service
        self.action = action
    }

    /// An error found on this side of the wire.
    private init(_ kind: Kind, _ message: String) {
        self.init(code: "", message: message, httpStatus: 0, service: "", action: "")
        self.kind = kind
    }

    /// A service answered with an error (all the code-based predicates are about these).
    public var isServiceAnswer: Bool { kind == .service }

    public var description: String {
        switch kind {
        case .service: serviceDescription
        case .transport(let failure, let host, let detail, _):
            attempts > 1
                ? "\(failure.summary(host: host, detail: detail)) (after \(attempts) attempts)"
                : failure.summary(host: host, detail: detail)
        case .noCredentials, .credentials, .configuration, .signing: message
        case .waiter(let outcome, let name, let elapsed, let lastObserved):
            outcome.summary(waiter: name, attempts: attempts, elapsed: elapsed, lastObserved: lastObserved)
        }
    }

    /// What the user can do about it; nil where this side knows nothing better than the message.
    public var next: String? {
        switch kind {
        case .service, .signing, .transport: nil
        case .noCredentials:
            "run `aws configure` (access keys) or `aws sso login --profile NAME` (SSO), or pass --profile"
        case .credentials(let next), .configuration(let next): next
        case .waiter(let outcome, _, _, _): outcome.next
        }
    }

    // MARK: credentials and configuration

    /// No credentials anywhere the chain looked; `looked` names each place.
    public static func noCredentials(looked: [String], detail: String? = nil) -> Self {
        let text = "no AWS credentials found. Looked in: " + looked.joined(separator: "; ")
        return Self(.noCredentials(looked: looked), detail.map { "\(text). \($0)" } ?? text)
    }

    /// A credential source failed (a credential_process, an SSO token, an AssumeRole). `next`
    /// defaults to checking that source.
    public static func credentials(_ message: String, next: String? = nil) -> Self {
        Self(
            .credentials(
                next: next ?? "fix the source named above, or use another: `aws configure`, `aws sso login`, --profile"),
            message)
    }

    /// The profile, region or endpoint cannot be resolved.
    public static func configuration(_ message: String, next: String? = nil) -> Self {
        Self(
            .configuration(next: next ?? "fix the AWS configuration named above (`aws configure list` shows it)"),
            message)
    }

    /// No usable credentials: none found, or their source failed.
    public var isCredentialFailure: Bool {
        switch kind {
        case .noCredentials, .credentials: true
        default: false
        }
    }

    /// Where the chain looked for credentials, when it found none.
    public var placesLooked: [String] {
        if case .noCredentials(let looked) = kind { return looked }
        return []
    }

    public var isConfigurationFailure: Bool {
        if case .configuration = kind { return true }
        return false
    }

    // MARK: signing

    /// A request SigV4 cannot sign or presign.
    static func signing(_ message: String) -> Self { Self(.signing, message) }

    public var isSigningFailure: Bool { kind == .signing }

    // MARK: transport

    /// Nothing (or nothing whole) came back from `host`: `detail` is libcurl's own words.
    static func transport(_ failure: TransportFailure, host: String, detail: String, curlCode: Int) -> Self {
        Self(.transport(failure, host: host, detail: detail, curlCode: curlCode), detail)
    }

    private var transportFailure: TransportFailure? {
        if case .transport(let failure, _, _, _) = kind { return failure }
        return nil
    }

    public var isTransportFailure: Bool { transportFailure != nil }
    public var isConnectFailure: Bool { transportFailure == .connectFailed }
    public var isTimeout: Bool { transportFailure == .timedOut }
    public var isConnectionReset: Bool { transportFailure == .connectionReset }
    public var isTLSFailure: Bool { transportFailure == .tls }
    /// A transport failure the standard retry mode retries: connection errors and timeouts are
    /// transient; TLS and malformed requests are not.
    public var isRetryableTransportFailure: Bool { transportFailure?.isRetryable ?? false }

    /// libcurl's CURLcode of a transport failure (0 when it did not come from curl); nil for others.
    public var curlCode: Int? {
        if case .transport(_, _, _, let curlCode) = kind { return curlCode }
        return nil
    }

    // MARK: waiters

    static func waiter(
        _ outcome: WaiterOutcome, name: String, attempts: Int, elapsed: Double, lastObserved: String
    ) -> Self {
        var error = Self(.waiter(outcome, name: name, elapsed: elapsed, lastObserved: lastObserved), lastObserved)
        error.attempts = attempts
        return error
    }

    private var waiterOutcome: WaiterOutcome? {
        if case .waiter(let outcome, _, _, _) = kind { return outcome }
        return nil
    }

    /// A waiter ran out of time (the resource may still get there).
    public var isWaiterTimeout: Bool { waiterOutcome == .timedOut }
    /// A waiter saw a state the resource cannot leave.
    public var isWaiterFailureState: Bool { waiterOutcome == .failureState }
    /// A waiter's poll failed in a way no acceptor names.
    public var isWaiterFailure: Bool { waiterOutcome != nil }
}
