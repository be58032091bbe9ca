import Foundation

/// Time for retries and waiters. The real one sleeps; tests drive a fake that records sleeps
/// and advances instantly.
public protocol AWSClock: Sendable {
    func now() -> Date
    func sleep(seconds: Double) async throws
}

/// Wall-clock time and `Task.sleep` (cancellable).
public struct SystemClock: AWSClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}
