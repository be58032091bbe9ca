import Foundation
import Glibc
@testable import RescueController
import Testing

/// The port probe against real sockets on 127.0.0.1: a listener answers, a closed port does not,
/// and neither blocks the test's task beyond the limit.
@Suite struct PortProbeTests {
    /// A listening TCP socket on an ephemeral loopback port; closed by `close()`.
    struct Listener {
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            try #require(fd >= 0 && bound && listen(fd, 4) == 0)
            self.fd = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        func close() { _ = Glibc.close(fd) }
    }

    @Test func aListeningPortAnswers() async throws {
        let listener = try Listener()
        defer { listener.close() }
        #expect(await LoginVerifier.connects(host: "127.0.0.1", port: listener.port, within: .seconds(5)))
    }

    @Test func aClosedPortDoesNotAndSaysSoAtOnce() async throws {
        let listener = try Listener()
        let port = listener.port
        listener.close()
        let started = ContinuousClock.now
        #expect(await !LoginVerifier.connects(host: "127.0.0.1", port: port, within: .seconds(5)))
        #expect(started.duration(to: .now) < .seconds(2), "a refused connect must not wait out the limit")
    }

    @Test func waitForPortReturnsOnceTheListenerIsThere() async throws {
        let listener = try Listener()
        defer { listener.close() }
        let verifier = LoginVerifier(
            address: "127.0.0.1", user: "admin", privateKey: nil, hostKeys: [], instanceID: "i-1",
            sshOptions: ["-p", "\(listener.port)"])
        #expect(await verifier.waitForPort(timeout: 10))
    }
}
