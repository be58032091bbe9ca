import Foundation
import Synchronization

/// The AWS SDKs' "standard" retry mode (SDK reference guide, "Retry behavior"):
/// at most `maxAttempts` attempts; before attempt n+1 sleep `random(0,1) × 2^(n-1)` seconds,
/// capped at `maxBackoff`; every retry spends tokens from a quota shared by the client.
public struct RetryPolicy: Sendable {
    /// Attempts per call, the first included. Default 3 (AWS_MAX_ATTEMPTS in the SDKs).
    public var maxAttempts: Int
    /// Base of the exponential backoff, seconds. Default 1.
    public var baseDelay: Double
    /// Longest sleep between attempts, seconds. Default 20.
    public var maxBackoff: Double
    /// Uniform [0, 1): the jitter. Injectable so tests are deterministic.
    public var random: @Sendable () -> Double

    public init(
        maxAttempts: Int = 3, baseDelay: Double = 1, maxBackoff: Double = 20,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxBackoff = maxBackoff
        self.random = random
    }

    /// Seconds to wait after failed attempt `attempt` (1-based).
    public func backoff(afterAttempt attempt: Int) -> Double {
        min(random() * baseDelay * pow(2, Double(attempt - 1)), maxBackoff)
    }
}

/// The standard mode's retry quota: 500 tokens; a retry costs 5 (10 after a timeout); a success
/// returns what its retries cost, or 1 token when it needed none. An empty bucket stops retries,
/// so a broken endpoint cannot multiply the load by the attempt count.
public final class RetryQuota: Sendable {
    public static let initialTokens = 500
    public static let retryCost = 5
    public static let timeoutRetryCost = 10

    private let tokens: Mutex<Int>
    public init(tokens: Int = RetryQuota.initialTokens) { self.tokens = Mutex(tokens) }

    public var available: Int { tokens.withLock { $0 } }

    /// Takes the cost of one retry; false when the bucket cannot pay (no retry then).
    func acquire(timeout: Bool) -> Int? {
        let cost = timeout ? Self.timeoutRetryCost : Self.retryCost
        return tokens.withLock { tokens in
            guard tokens >= cost else { return nil }
            tokens -= cost
            return cost
        }
    }

    /// After a success: give back what the retries cost, or 1 token for a first-try success.
    func release(_ spent: Int) {
        tokens.withLock { $0 = min(Self.initialTokens, $0 + max(spent, 1)) }
    }
}

/// What is worth retrying, per the standard mode.
public enum RetryClassifier {
    public static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    public static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
    ]
    public static let transientStatuses: Set<Int> = [500, 502, 503, 504]
    /// 5xx answers that are not transient: EC2 has no room for the instance in the zone, which
    /// lasts minutes, not the second a retry waits. The caller decides (keyrescue backs off, then
    /// stops resumable).
    public static let capacityCodes: Set<String> = [
        "InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientCapacity",
    ]

    public enum Verdict: Sendable, Equatable {
        case doNotRetry
        /// Retry; `timeout` retries cost more quota.
        case retry(timeout: Bool)
    }

    public static func classify(_ error: any Error) -> Verdict {
        if let error = error as? AWSError, error.isTransportFailure {
            return error.isRetryableTransportFailure ? .retry(timeout: error.isTimeout) : .doNotRetry
        }
        if let error = error as? AWSError {
            if capacityCodes.contains(error.code) { return .doNotRetry }
            if throttlingCodes.contains(error.code) || transientCodes.contains(error.code)
                || transientStatuses.contains(error.httpStatus) || error.httpStatus == 429
            {
                return .retry(timeout: false)
            }
            return .doNotRetry
        }
        return .doNotRetry
    }
}
