import AWSKit
import Foundation
import Synchronization

/// A transport that answers from a script and records every request it was sent.
final class StepTransport: HTTPTransport {
    enum Step: Sendable {
        case respond(HTTPResponse)
        case fail(any Error)
    }

    private let state: Mutex<(steps: [Step], sent: [HTTPRequest])>
    /// Answered once the script is exhausted.
    let fallback: Step

    init(_ steps: [Step], fallback: Step = .respond(HTTPResponse(status: 200, body: Data("<R/>".utf8)))) {
        state = Mutex((steps, []))
        self.fallback = fallback
    }

    var sent: [HTTPRequest] { state.withLock { $0.sent } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let step = state.withLock { state in
            state.sent.append(request)
            return state.steps.isEmpty ? fallback : state.steps.removeFirst()
        }
        switch step {
        case .respond(let response): return response
        case .fail(let error): throw error
        }
    }

    static func xml(_ status: Int, _ body: String, headers: [HTTPHeader] = []) -> Step {
        .respond(HTTPResponse(status: status, headers: headers, body: Data(body.utf8)))
    }

    static func ec2Error(_ code: String, status: Int = 400, message: String = "") -> Step {
        xml(
            status,
            "<Response><Errors><Error><Code>\(code)</Code><Message>\(message)</Message></Error></Errors><RequestID>req-1</RequestID></Response>"
        )
    }
}

/// A clock tests drive: `sleep` records the duration and advances time at once.
final class SteppedClock: AWSClock {
    private let state = Mutex((now: Date(timeIntervalSince1970: 1_800_000_000), sleeps: [Double]()))

    func now() -> Date { state.withLock { $0.now } }
    func sleep(seconds: Double) async throws {
        state.withLock {
            $0.sleeps.append(seconds)
            $0.now += seconds
        }
    }
    var sleeps: [Double] { state.withLock { $0.sleeps } }
}

let testCredentials = StaticCredentialProvider(
    Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret"), source: "tests")

/// An AWSClient on a scripted transport and a driven clock; jitter fixed at `random`.
func scriptedClient(
    _ transport: StepTransport, clock: SteppedClock = SteppedClock(), maxAttempts: Int = 3, random: Double = 0.5
) -> AWSClient {
    AWSClient(
        region: "eu-west-1", credentials: testCredentials,
        endpoint: { service in
            var parts = URLComponents()
            parts.scheme = "https"
            parts.host = "\(service).eu-west-1.amazonaws.com"
            return parts.url ?? URL(fileURLWithPath: "/")  // a host name always makes a URL
        },
        transport: transport, retry: RetryPolicy(maxAttempts: maxAttempts, random: { random }), clock: clock)
}
