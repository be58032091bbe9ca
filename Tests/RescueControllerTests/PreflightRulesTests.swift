import AWSKit
import RescueController
import Testing

@Suite struct PreflightRulesTests {
    static func instance(_ change: (inout Instance) -> Void = { _ in }) -> Instance {
        var i = Instance(instanceId: "i-1", state: .running)
        i.rootDeviceType = "ebs"
        i.rootDeviceName = "/dev/xvda"
        i.availabilityZone = "us-east-1a"
        change(&i)
        return i
    }
    static let volume = Volume(volumeId: "vol-1", state: .inUse)

    func codes(_ i: Instance, _ change: (inout PreflightFacts) -> Void = { _ in }) -> [String] {
        var facts = PreflightFacts(instance: i, rootVolume: Self.volume, elasticIP: true)
        change(&facts)
        return PreflightRules.findings(facts).map { "\($0.severity == .refusal ? "refuse" : "warn"):\($0.code)" }
    }

    @Test func anOrdinaryInstanceGoesAhead() { #expect(codes(Self.instance()).isEmpty) }

    @Test func refusals() {
        #expect(codes(Self.instance { $0.rootDeviceType = "instance-store" }) == ["refuse:instance-store-root"])
        #expect(codes(Self.instance { $0.platform = "windows" }) == ["refuse:windows"])
        #expect(codes(Self.instance()) { $0.disableApiStop = true } == ["refuse:stop-protection"])
        #expect(codes(Self.instance { $0.state = .stopping }) == ["refuse:instance-state"])
        #expect(codes(Self.instance { $0.tags = [Tag("keyrescue:run", "kr-1")] }) == ["refuse:rescue-in-progress"])
        #expect(codes(Self.instance()) { $0.subnetReachesS3 = false } == ["refuse:no-s3-route"])
        #expect(codes(Self.instance()) { $0.rootVolume = nil } == ["refuse:no-root-volume"])
    }

    @Test func spotNeedsAPersistentStopRequest() {
        let spot = Self.instance { $0.instanceLifecycle = "spot"; $0.spotInstanceRequestId = "sir-1" }
        #expect(codes(spot) == ["refuse:spot"])  // request unreadable: refuse
        var request = SpotInstanceRequest(spotInstanceRequestId: "sir-1")
        request.type = "persistent"
        request.instanceInterruptionBehavior = "terminate"
        #expect(codes(spot) { $0.spotRequest = request } == ["refuse:spot"])
        request.instanceInterruptionBehavior = "stop"
        #expect(codes(spot) { $0.spotRequest = request }.isEmpty)
    }

    @Test func warnings() {
        #expect(codes(Self.instance { $0.tags = [Tag("aws:autoscaling:groupName", "web")] }) == ["warn:auto-scaling"])
        #expect(codes(Self.instance { $0.publicIpAddress = "1.2.3.4" }) { $0.elasticIP = false } == ["warn:public-ip-changes"])
        #expect(codes(Self.instance { $0.publicIpAddress = "1.2.3.4" }).isEmpty)
        #expect(codes(Self.instance { $0.productCodes = ["abc"] }) == ["warn:marketplace"])
        #expect(codes(Self.instance()) { $0.kmsKeyUsable = false } == ["warn:kms-key"])
    }
}
