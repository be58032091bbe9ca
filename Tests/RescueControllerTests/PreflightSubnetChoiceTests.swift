import AWSKit
import RescueController
import Testing

@Suite struct PreflightSubnetChoiceTests {
    static func subnet(_ id: String, zone: String = "us-east-1a", maps: Bool = false) -> Subnet {
        Subnet(subnetId: id, vpcId: "vpc-1", availabilityZone: zone, mapPublicIpOnLaunch: maps)
    }
    static func table(_ id: String, _ gateways: [String], _ subnets: [String], main: Bool = false) -> RouteTable {
        RouteTable(routeTableId: id, vpcId: "vpc-1", defaultRouteTo: gateways, subnets: subnets, main: main)
    }

    func choose(
        _ subnets: [Subnet], _ tables: [RouteTable], endpoints: Set<String> = [], blocked: Bool = false,
        target: String? = "subnet-target", requested: String? = nil
    ) -> SubnetChoice.Choice? {
        SubnetChoice.choose(
            target: target, requested: requested,
            in: .init(
                zone: "us-east-1a", subnets: subnets, routeTables: tables, s3EndpointRouteTables: endpoints,
                internetGatewayBlocked: blocked))
    }

    @Test func theTargetsOwnSubnetWinsWhenItReachesS3() throws {
        let c = try #require(
            choose(
                [Self.subnet("subnet-a", maps: true), Self.subnet("subnet-target", maps: true)],
                [Self.table("rtb-main", ["igw-1"], [], main: true)]))
        #expect(c.subnetID == "subnet-target")
        #expect(!c.associatePublicIP)
        #expect(c.reason.contains("the instance's own subnet") && c.reason.contains("igw-1"))
    }

    @Test func aPrivateTargetSubnetGivesWayToAPublicOneInTheSameZone() throws {
        let c = try #require(
            choose(
                [
                    Self.subnet("subnet-target"), Self.subnet("subnet-public", maps: true),
                    Self.subnet("subnet-elsewhere", zone: "us-east-1b", maps: true),
                ],
                [Self.table("rtb-private", [], ["subnet-target"]), Self.table("rtb-main", ["igw-1"], [], main: true)]))
        #expect(c.subnetID == "subnet-public")
        #expect(c.reason.contains("a subnet in us-east-1a"))
    }

    @Test func anInternetGatewaySubnetThatMapsNoAddressAsksForOne() throws {
        let c = try #require(
            choose([Self.subnet("subnet-target")], [Self.table("rtb-1", ["igw-1"], ["subnet-target"])]))
        #expect(c.associatePublicIP)
        #expect(c.reason.contains("asks for a public IPv4"))
    }

    @Test func aNATGatewayOrAnS3EndpointNeedsNoPublicAddress() throws {
        let nat = try #require(
            choose([Self.subnet("subnet-target")], [Self.table("rtb-1", ["nat-1"], ["subnet-target"])]))
        #expect(!nat.associatePublicIP && nat.reason.contains("nat-1"))
        let endpoint = try #require(
            choose([Self.subnet("subnet-target")], [Self.table("rtb-1", [], ["subnet-target"])], endpoints: ["rtb-1"]))
        #expect(!endpoint.associatePublicIP && endpoint.reason.contains("S3 gateway endpoint"))
    }

    @Test func blockPublicAccessStopsTheInternetGatewayButNotNAT() {
        let igw = [Self.table("rtb-1", ["igw-1"], ["subnet-target"])]
        #expect(choose([Self.subnet("subnet-target", maps: true)], igw, blocked: true) == nil)
        let nat = [Self.table("rtb-1", ["nat-1"], ["subnet-target"])]
        #expect(choose([Self.subnet("subnet-target")], nat, blocked: true)?.subnetID == "subnet-target")
    }

    @Test func noRouteInTheZoneIsNoChoiceEvenWithARouteElsewhere() {
        let subnets = [Self.subnet("subnet-target"), Self.subnet("subnet-b", zone: "us-east-1b", maps: true)]
        let tables = [Self.table("rtb-1", [], ["subnet-target"]), Self.table("rtb-b", ["igw-1"], ["subnet-b"])]
        #expect(choose(subnets, tables) == nil)
    }

    @Test func aRequestedSubnetIsJudgedAlone() {
        let subnets = [Self.subnet("subnet-target", maps: true), Self.subnet("subnet-private")]
        let tables = [Self.table("rtb-main", ["igw-1"], [], main: true), Self.table("rtb-p", [], ["subnet-private"])]
        #expect(choose(subnets, tables, requested: "subnet-private") == nil)
        #expect(choose(subnets, tables, requested: "subnet-target")?.reason.hasPrefix("--subnet") == true)
    }

    @Test func theRefusalSaysWhatWouldMakeItWork() {
        let r = SubnetChoice.refusal(zone: "us-east-1a", requested: nil, internetGatewayBlocked: true)
        #expect(r.severity == .refusal && r.code == "no-s3-route")
        #expect(r.message.contains("us-east-1a") && r.message.contains("Block Public Access"))
        for remedy in ["S3 gateway endpoint", "NAT gateway", "--subnet"] { #expect(r.hint.contains(remedy)) }
    }
}
