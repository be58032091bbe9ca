import Foundation

/// botocore's waiter model: poll an operation, match each answer (or error) against acceptors
/// in order; the first that matches decides success, failure or retry; no match means retry.
public struct Waiter<Output: Sendable>: Sendable {
    public enum State: String, Sendable { case success, failure, retry }

    /// One acceptor. `argument` keeps botocore's JMESPath text (so tests compare against
    /// waiters-2.json); `values` is its Swift transcription.
    public struct Acceptor: Sendable {
        public enum Matcher: Sendable {
            /// Every value equals `expected` (and there is at least one).
            case pathAll(argument: String, expected: String, values: @Sendable (Output) -> [String])
            /// Some value equals `expected`.
            case pathAny(argument: String, expected: String, values: @Sendable (Output) -> [String])
            /// The call failed with this error code.
            case error(code: String)
        }
        public var state: State
        public var matcher: Matcher

        public init(_ state: State, _ matcher: Matcher) {
            self.state = state
            self.matcher = matcher
        }

        func matches(_ result: Result<Output, any Error>) -> Bool {
            switch (matcher, result) {
            case (.pathAll(_, let expected, let values), .success(let output)):
                let found = values(output)
                return !found.isEmpty && found.allSatisfy { $0 == expected }
            case (.pathAny(_, let expected, let values), .success(let output)):
                return values(output).contains(expected)
            case (.error(let code), .failure(let error)):
                return (error as? AWSError)?.code == code
            default:
                return false
            }
        }
    }

    public var name: String
    /// botocore's defaults.
    public var delay: Double
    public var maxAttempts: Int
    public var acceptors: [Acceptor]
    /// What a success-by-error (e.g. `InvalidVolume.NotFound` for VolumeDeleted) returns.
    public var outputWhenGone: Output?

    public init(name: String, delay: Double, maxAttempts: Int, acceptors: [Acceptor], outputWhenGone: Output? = nil) {
        self.name = name
        self.delay = delay
        self.maxAttempts = maxAttempts
        self.acceptors = acceptors
        self.outputWhenGone = outputWhenGone
    }

    /// The decision for one poll's result; nil = keep polling.
    func decide(_ result: Result<Output, any Error>) -> State {
        acceptors.first { $0.matches(result) }?.state ?? .retry
    }
}

/// How often to poll. `.botocore` uses the waiter's own delay and attempt limit.
public enum WaitSchedule: Sendable {
    case botocore
    /// A fixed interval, up to a total time (e.g. every 1 s for 5 min during a volume move).
    case fixed(interval: Double, timeout: Double)
    /// Starts at `initial`, doubles up to `maxInterval`, up to `timeout` in total.
    case backoff(initial: Double, maxInterval: Double, timeout: Double)
}

/// Reported after each poll.
public struct WaitProgress: Sendable {
    public var waiter: String
    public var attempt: Int
    public var elapsed: Double
    /// A one-line summary of what the poll saw (e.g. the states).
    public var observed: String
}

extension Waiter {
    /// Polls `operation` until an acceptor says success (returns the last output) or failure
    /// (throws an `AWSError` that `isWaiterFailure`), within the schedule. Errors no acceptor names are thrown as they are.
    public func wait(
        schedule: WaitSchedule = .botocore, clock: any AWSClock,
        describe: @Sendable (Output) -> String = { "\($0)" },
        progress: @Sendable (WaitProgress) -> Void = { _ in },
        _ operation: @Sendable () async throws -> Output
    ) async throws -> Output {
        let start = clock.now()
        var attempt = 0
        var interval: Double
        switch schedule {
        case .botocore: interval = delay
        case .fixed(let every, _): interval = every
        case .backoff(let initial, _, _): interval = initial
        }
        while true {
            attempt += 1
            let result: Result<Output, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            let elapsed = clock.now().timeIntervalSince(start)
            let observed: String =
                switch result {
                case .success(let output): describe(output)
                case .failure(let error):
                    (error as? AWSError).flatMap { $0.isServiceAnswer ? $0.code : nil } ?? "\(error)"
                }
            progress(WaitProgress(waiter: name, attempt: attempt, elapsed: elapsed, observed: observed))
            switch decide(result) {
            case .success:
                if case .success(let output) = result { return output }
                if let gone = outputWhenGone { return gone }
                throw AWSError.waiter(
                    .unexpectedError, name: name, attempts: attempt, elapsed: elapsed, lastObserved: observed)
            case .failure:
                throw AWSError.waiter(
                    .failureState, name: name, attempts: attempt, elapsed: elapsed, lastObserved: observed)
            case .retry:
                if case .failure(let error) = result, !acceptors.contains(where: { $0.matches(result) }) { throw error }
            }
            let outOfTime: Bool =
                switch schedule {
                case .botocore: attempt >= maxAttempts
                case .fixed(_, let timeout), .backoff(_, _, let timeout): elapsed + interval > timeout
                }
            if outOfTime {
                throw AWSError.waiter(
                    .timedOut, name: name, attempts: attempt, elapsed: elapsed, lastObserved: observed)
            }
            try await clock.sleep(seconds: interval)
            if case .backoff(_, let maxInterval, _) = schedule { interval = min(interval * 2, maxInterval) }
        }
    }
}
