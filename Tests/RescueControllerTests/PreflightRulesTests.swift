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

    /// One rule each: what it changes on an ordinary instance, and the one finding it must give.
    struct Rule: Sendable, CustomTestStringConvertible {
        var finding: String
        var instance: @Sendable (inout Instance) -> Void = { _ in }
        var facts: @Sendable (inout PreflightFacts) -> Void = { _ in }
        var testDescription: String { finding }
    }

    static let rules: [Rule] = [
        Rule(finding: "refuse:instance-store-root", instance: { $0.rootDeviceType = "instance-store" }),
        Rule(finding: "refuse:windows", instance: { $0.platform = "windows" }),
        Rule(finding: "refuse:stop-protection", facts: { $0.disableApiStop = true }),
        Rule(finding: "warn:stop-protection-unknown", facts: { $0.disableApiStop = nil }),
        Rule(finding: "refuse:instance-state", instance: { $0.state = .stopping }),
        Rule(finding: "refuse:rescue-in-progress", instance: { $0.tags = [Tag("keyrescue:run", "kr-1")] }),
        Rule(finding: "refuse:no-s3-route", facts: { $0.subnetReachesS3 = false }),
        Rule(finding: "refuse:no-root-volume", facts: { $0.rootVolume = nil }),
        Rule(finding: "refuse:no-root-volume", instance: { $0.rootDeviceName = nil }),
        Rule(finding: "refuse:no-rescue-image", facts: { $0.rescueImageFound = false }),
        Rule(finding: "refuse:spot", instance: { $0.instanceLifecycle = "spot" }),
        Rule(finding: "refuse:auto-scaling", facts: { $0.autoScaling = PreflightRulesTests.member("InService") }),
        Rule(finding: "refuse:auto-scaling-state", facts: { $0.autoScaling = PreflightRulesTests.member("Pending") }),
        Rule(finding: "warn:auto-scaling-unknown", facts: { $0.autoScaling = .unknown }),
        Rule(
            finding: "refuse:auto-scaling-min-size",
            facts: {
                $0.autoScaling = PreflightRulesTests.member("InService", min: 2, desired: 2); $0.standby = true
            }),
        Rule(
            finding: "warn:auto-scaling-load-balancer",
            facts: {
                $0.autoScaling = PreflightRulesTests.member("InService", suspended: ["AddToLoadBalancer"]);
                $0.standby = true
            }),
        Rule(
            finding: "warn:public-ip-changes", instance: { $0.publicIpAddress = "1.2.3.4" },
            facts: { $0.elasticIP = false }),
        Rule(finding: "warn:marketplace", instance: { $0.productCodes = ["abc"] }),
        Rule(finding: "warn:kms-key", facts: { $0.kmsKeyUsable = false }),
        Rule(finding: "refuse:instance-store", facts: { $0.instanceStore = true }),
        Rule(
            finding: "warn:instance-store-loss",
            facts: {
                $0.instanceStore = true; $0.allowInstanceStoreLoss = true
            }),
        Rule(finding: "warn:instance-store-unknown", facts: { $0.instanceStore = nil }),
        Rule(
            finding: "refuse:hibernated",
            instance: {
                $0.state = .stopped; $0.stateReasonCode = "Client.UserInitiatedHibernate"
            }),
        Rule(
            finding: "refuse:spot-interrupted",
            instance: {
                $0.state = .stopped; $0.stateReasonCode = "Server.SpotInstanceShutdown"
            }),
        Rule(
            finding: "warn:public-ip-lost",
            instance: {
                $0.publicIpAddress = "1.2.3.4"; $0.networkInterfaceCount = 2
            }, facts: { $0.elasticIP = false }),
    ]

    static func member(_ state: String, min: Int = 1, desired: Int = 2, suspended: [String] = [])
        -> AutoScalingMembership
    {
        .member(
            .init(instanceId: "i-1", groupName: "web", lifecycleState: state),
            .init(name: "web", minSize: min, desiredCapacity: desired, suspendedProcesses: suspended))
    }

    @Test func standbyLetsAnInServiceMemberThroughAndStandbyNeedsNothing() {
        #expect(
            codes(Self.instance()) {
                $0.autoScaling = Self.member("InService"); $0.standby = true
            }.isEmpty)
        #expect(codes(Self.instance()) { $0.autoScaling = Self.member("Standby") }.isEmpty)
    }

    @Test(arguments: rules) func eachRuleGivesItsFinding(_ rule: Rule) {
        #expect(codes(Self.instance(rule.instance), rule.facts) == [rule.finding])
    }

    @Test(arguments: rules) func everyFindingSaysWhatToDo(_ rule: Rule) {
        var facts = PreflightFacts(instance: Self.instance(rule.instance), rootVolume: Self.volume, elasticIP: true)
        rule.facts(&facts)
        for finding in PreflightRules.findings(facts) {
            #expect(!finding.message.isEmpty && !finding.hint.isEmpty, "\(finding.code)")
        }
    }

    @Test func aStopProtectionThatCannotBeReadIsNotTakenAsOff() {
        let unknown = codes(Self.instance()) { $0.disableApiStop = nil }
        #expect(unknown == ["warn:stop-protection-unknown"], "unknown needs --yes, unlike off")
        #expect(codes(Self.instance()) { $0.disableApiStop = false }.isEmpty)
    }

    @Test func anElasticIPKeepsTheAddressSoNoWarning() {
        #expect(codes(Self.instance { $0.publicIpAddress = "1.2.3.4" }).isEmpty)
    }

    @Test func aPlainKeyOrAnUsableOneIsNoFinding() {
        #expect(codes(Self.instance()) { $0.kmsKeyUsable = true }.isEmpty)
        #expect(codes(Self.instance()) { $0.kmsKeyUsable = nil }.isEmpty)
    }

    @Test func findingsAddUp() {
        let both = codes(
            Self.instance {
                $0.platform = "windows"; $0.productCodes = ["abc"]
            }
        ) { $0.subnetReachesS3 = false }
        #expect(both == ["refuse:windows", "refuse:no-s3-route", "warn:marketplace"])
    }

    @Test func aNormalStopIsNoFinding() {
        #expect(
            codes(
                Self.instance {
                    $0.state = .stopped; $0.stateReasonCode = "Client.UserInitiatedShutdown"
                }
            ).isEmpty)
    }

    @Test func noRouteToS3SaysWhatWouldMakeItWork() throws {
        var facts = PreflightFacts(
            instance: Self.instance(), rootVolume: Self.volume, elasticIP: true, subnetReachesS3: false)
        facts.subnetRequested = "subnet-9"
        let finding = try #require(PreflightRules.findings(facts).first)
        #expect(finding.message.contains("subnet subnet-9"))
        #expect(finding.hint.contains("NAT gateway") && finding.hint.contains("S3 gateway endpoint"))
    }

    @Test func spotNeedsAPersistentStopRequest() {
        let spot = Self.instance {
            $0.instanceLifecycle = "spot"; $0.spotInstanceRequestId = "sir-1"
        }
        #expect(codes(spot) == ["refuse:spot"])  // request unreadable: refuse
        var request = SpotInstanceRequest(spotInstanceRequestId: "sir-1")
        request.type = "persistent"
        request.instanceInterruptionBehavior = "terminate"
        #expect(codes(spot) { $0.spotRequest = request } == ["refuse:spot"])
        request.instanceInterruptionBehavior = "stop"
        #expect(codes(spot) { $0.spotRequest = request }.isEmpty)
    }
}
