import AWSKit

/// Where the rescue host goes: a subnet of the target's VPC, in the target's zone (the root volume
/// attaches only within its zone; the subnet is free), whose route table carries traffic to S3.
/// Pure: preflight reads the subnets, route tables, S3 gateway endpoints and Block Public Access,
/// this decides.
public enum SubnetChoice {
    /// What preflight read about the network.
    public struct Network: Sendable {
        public var zone: String
        /// Every subnet of the VPC (any zone: the choice filters).
        public var subnets: [Subnet]
        /// Every route table of the VPC.
        public var routeTables: [RouteTable]
        /// Route tables of the VPC's available gateway endpoints for `com.amazonaws.REGION.s3`.
        public var s3EndpointRouteTables: Set<String>
        /// VPC Block Public Access blocks internet-gateway traffic (`block-bidirectional` or
        /// `block-ingress`; exclusions are not read, so this errs towards refusing).
        public var internetGatewayBlocked: Bool

        public init(
            zone: String, subnets: [Subnet], routeTables: [RouteTable], s3EndpointRouteTables: Set<String> = [],
            internetGatewayBlocked: Bool = false
        ) {
            self.zone = zone
            self.subnets = subnets
            self.routeTables = routeTables
            self.s3EndpointRouteTables = s3EndpointRouteTables
            self.internetGatewayBlocked = internetGatewayBlocked
        }
    }

    public struct Choice: Equatable, Sendable {
        public var subnetID: String
        public var associatePublicIP: Bool
        public var reason: String
    }

    /// How a subnet reaches S3, if it does.
    enum Path: Equatable {
        case gatewayEndpoint(String), natGateway(String), internetGateway(String, mapsPublicIP: Bool)
    }

    /// The target's subnet when it reaches S3, else the first subnet in the zone that does (by ID,
    /// so the choice is stable); nil when none does. `requested` (`--subnet`) is judged alone.
    public static func choose(target: String?, requested: String?, in network: Network) -> Choice? {
        let inZone = network.subnets.filter { $0.availabilityZone == network.zone }
        let candidates: [Subnet]
        if let requested {
            candidates = inZone.filter { $0.subnetId == requested }
        } else {
            let others = inZone.filter { $0.subnetId != target }.sorted { $0.subnetId < $1.subnetId }
            candidates = inZone.filter { $0.subnetId == target } + others
        }
        for subnet in candidates {
            guard let (path, table) = path(subnet, network) else { continue }
            let whose =
                subnet.subnetId == requested
                ? "--subnet" : subnet.subnetId == target ? "the instance's own subnet" : "a subnet in \(network.zone)"
            return choice(subnet, path, table: table, whose: whose)
        }
        return nil
    }

    static func choice(_ subnet: Subnet, _ path: Path, table: String, whose: String) -> Choice {
        let id = subnet.subnetId
        switch path {
        case .gatewayEndpoint(let endpointTable):
            return Choice(
                subnetID: id, associatePublicIP: false,
                reason: "\(whose); route table \(endpointTable) has an S3 gateway endpoint")
        case .natGateway(let nat):
            return Choice(
                subnetID: id, associatePublicIP: false,
                reason: "\(whose); route table \(table) sends 0.0.0.0/0 to \(nat)")
        case .internetGateway(let igw, let maps):
            let ip = maps ? "the subnet maps a public IPv4" : "the host asks for a public IPv4 (the subnet maps none)"
            return Choice(
                subnetID: id, associatePublicIP: !maps,
                reason: "\(whose); route table \(table) sends 0.0.0.0/0 to \(igw), \(ip)")
        }
    }

    /// The subnet's own route table, else the VPC's main one (VPC user guide, "Route tables":
    /// "Subnets that aren't explicitly associated with any route table are implicitly associated with
    /// the main route table").
    static func table(of subnet: Subnet, _ network: Network) -> RouteTable? {
        network.routeTables.first { $0.associations.contains { $0.subnetId == subnet.subnetId } }
            ?? network.routeTables.first { $0.vpcId == subnet.vpcId && $0.associations.contains(where: \.main) }
    }

    /// An S3 gateway endpoint on the table wins (no public address, no gateway needed), then a NAT
    /// gateway, then an internet gateway unless Block Public Access stops it.
    static func path(_ subnet: Subnet, _ network: Network) -> (Path, String)? {
        guard let table = table(of: subnet, network) else { return nil }
        if network.s3EndpointRouteTables.contains(table.routeTableId) {
            return (.gatewayEndpoint(table.routeTableId), table.routeTableId)
        }
        let defaults = table.routes.filter { $0.destinationCidrBlock == "0.0.0.0/0" && $0.state != "blackhole" }
        if let nat = defaults.compactMap(\.natGatewayId).first { return (.natGateway(nat), table.routeTableId) }
        if !network.internetGatewayBlocked,
            let igw = defaults.compactMap(\.gatewayId).first(where: { $0.hasPrefix("igw-") })
        {
            return (.internetGateway(igw, mapsPublicIP: subnet.mapPublicIpOnLaunch == true), table.routeTableId)
        }
        return nil
    }

    /// The refusal when no subnet can reach S3: what would make it work.
    public static func refusal(zone: String, requested: String?, internetGatewayBlocked: Bool) -> PlanFinding {
        let where_ = requested.map { "subnet \($0)" } ?? "no subnet of the instance's VPC in \(zone)"
        let bpa = internetGatewayBlocked ? " (VPC Block Public Access blocks the internet gateway)" : ""
        return PlanFinding(
            .refusal, code: "no-s3-route",
            message:
                "\(where_) can reach S3\(bpa): the rescue host fetches the agent and posts its report there",
            hint:
                "add an S3 gateway endpoint (com.amazonaws.REGION.s3) to a route table in \(zone), or a NAT gateway route, or pass --subnet with a subnet in \(zone) that routes 0.0.0.0/0 to an internet gateway"
        )
    }
}
