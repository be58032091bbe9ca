import AWSKit
import Foundation
import Testing

/// Counts fetches; each hands out credentials valid for one hour from the driven clock.
final class CountingProvider: CredentialProvider, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    let clock: DrivenClock
    init(clock: DrivenClock) { self.clock = clock }
    var fetches: Int { lock.withLock { count } }
    func credentials() async throws -> Credentials {
        let n = lock.withLock {
            count += 1; return count
        }
        try await Task.sleep(for: .milliseconds(20))  // lets concurrent callers pile up
        return Credentials(
            accessKeyId: "ASIA\(n)", secretAccessKey: "s\(n)", sessionToken: "t\(n)", expiration: clock.now + 3600)
    }
}

@Suite struct CachedCredentialProviderTests {
    @Test func keepsCredentialsUntilFiveMinutesBeforeExpiry() async throws {
        let clock = DrivenClock()
        let source = CountingProvider(clock: clock)
        let cache = CachedCredentialProvider(source, clock: clock.function)
        #expect(try await cache.credentials().accessKeyId == "ASIA1")
        clock.advance(3600 - 301)
        #expect(try await cache.credentials().accessKeyId == "ASIA1")
        clock.advance(2)  // now 299 s before expiry: inside the refresh window
        #expect(try await cache.credentials().accessKeyId == "ASIA2")
        #expect(source.fetches == 2)
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let clock = DrivenClock()
        let source = CountingProvider(clock: clock)
        let cache = CachedCredentialProvider(source, clock: clock.function)
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 { group.addTask { try await cache.credentials().accessKeyId } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids == ["ASIA1"])
        #expect(source.fetches == 1)
    }

    @Test func credentialsWithoutExpiryAreKept() async throws {
        let clock = DrivenClock()
        let cache = CachedCredentialProvider(
            StaticCredentialProvider(Credentials(accessKeyId: "AKIA", secretAccessKey: "s"), source: "test"),
            clock: clock.function)
        clock.advance(86400 * 365)
        #expect(try await cache.credentials().accessKeyId == "AKIA")
    }
}
