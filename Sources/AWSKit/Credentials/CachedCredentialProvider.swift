import Foundation

/// Keeps temporary credentials until a few minutes before they expire, then fetches new ones.
/// An actor: concurrent callers share one refresh instead of each starting their own.
public actor CachedCredentialProvider: CredentialProvider {
    private let source: any CredentialProvider
    private let refreshAhead: TimeInterval
    private let clock: CredentialClock
    private var cached: Credentials?
    private var refreshing: Task<Credentials, any Error>?

    /// - Parameters:
    ///   - refreshAhead: refresh this long before `expiration` (default 5 minutes, as the CLI).
    ///   - clock: the time now; tests pass a driven one.
    public init(
        _ source: any CredentialProvider, refreshAhead: TimeInterval = 300,
        clock: @escaping CredentialClock = { Date() }
    ) {
        self.source = source
        self.refreshAhead = refreshAhead
        self.clock = clock
    }

    public func credentials() async throws -> Credentials {
        if let cached, isFresh(cached) { return cached }
        if let refreshing { return try await refreshing.value }
        let task = Task { [source] in try await source.credentials() }
        refreshing = task
        defer { refreshing = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }

    private func isFresh(_ credentials: Credentials) -> Bool {
        guard let expiration = credentials.expiration else { return true }
        return clock().addingTimeInterval(refreshAhead) < expiration
    }
}

/// Fixed credentials (environment variables or a profile's static keys).
public struct StaticCredentialProvider: CredentialProvider, CustomStringConvertible {
    let value: Credentials
    let source: String
    public init(_ credentials: Credentials, source: String) {
        value = credentials
        self.source = source
    }
    public func credentials() async throws -> Credentials { value }
    public var description: String { "static credentials from \(source) (\(value))" }
}
