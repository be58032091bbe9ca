import RescueAgent

print("keyrescue-agent: wire format \(Agent.wireFormatVersion)")
