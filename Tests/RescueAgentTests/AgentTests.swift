import RescueAgent
import RescueModel
import Testing

@Test func agentSpeaksTheSharedWireFormat() {
    #expect(Agent.wireFormatVersion == WireFormat.version)
}
