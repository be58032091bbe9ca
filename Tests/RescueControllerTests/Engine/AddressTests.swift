import Foundation
import Testing

@testable import AWSKit
@testable import RescueController

/// Issue 12 rule 11: the summary gives the address after the restart; without a public IPv4 the
/// IPv6 address is the one to log in to.
@Suite struct AddressTests {
    @Test func theLoginCheckPrefersThePublicIPv4ThenTheIPv6Address() {
        var instance = Instance(instanceId: "i-1", state: .running)
        instance.privateIpAddress = "10.0.0.5"
        #expect(LoginCheck.address(of: instance) == "10.0.0.5")
        instance.ipv6Address = "2001:db8::7"
        #expect(LoginCheck.address(of: instance) == "2001:db8::7")
        instance.publicIpAddress = "203.0.113.9"
        #expect(LoginCheck.address(of: instance) == "203.0.113.9")
        #expect(LoginCheck.address(of: nil) == "?")
    }

    @Test func theSummaryGivesTheIPv6AddressOfAnInstanceWithoutIPv4() async throws {
        let h = try EngineHarness()
        h.cloud.with { $0.ipv6Only = true }
        let outcome = try await h.engine().execute(h.plan)
        #expect(outcome.address == "2001:db8::7")
    }
}
