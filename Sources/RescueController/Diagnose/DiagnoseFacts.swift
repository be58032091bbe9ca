/// An inbound rule as far as port 22 is concerned: its port range and sources.
public struct IngressRule: Sendable, Equatable {
    /// `tcp`, `-1` (all), `udp`, …
    public var ipProtocol: String
    public var fromPort: Int?
    public var toPort: Int?
    public var cidrs: [String]
    /// The rule names other security groups or prefix lists, which cannot be judged from here.
    public var hasOtherSources: Bool

    public init(ipProtocol: String, fromPort: Int?, toPort: Int?, cidrs: [String], hasOtherSources: Bool = false) {
        self.ipProtocol = ipProtocol
        self.fromPort = fromPort
        self.toPort = toPort
        self.cidrs = cidrs
        self.hasOtherSources = hasOtherSources
    }

    var coversSSH: Bool {
        if ipProtocol == "-1" { return true }
        guard ipProtocol == "tcp" || ipProtocol == "6" else { return false }
        return (fromPort ?? 0) <= 22 && 22 <= (toPort ?? 65535)
    }
}

/// One network ACL entry (inbound), in rule-number order.
public struct ACLEntry: Sendable, Equatable {
    public var ruleNumber: Int
    public var ipProtocol: String
    public var allow: Bool
    public var cidr: String
    public var fromPort: Int?
    public var toPort: Int?
    public var egress: Bool

    public init(
        ruleNumber: Int, ipProtocol: String, allow: Bool, cidr: String, fromPort: Int?, toPort: Int?,
        egress: Bool = false
    ) {
        self.ruleNumber = ruleNumber
        self.ipProtocol = ipProtocol
        self.allow = allow
        self.cidr = cidr
        self.fromPort = fromPort
        self.toPort = toPort
        self.egress = egress
    }

    func covers(port: Int) -> Bool {
        if ipProtocol == "-1" { return true }
        guard ipProtocol == "6" || ipProtocol == "tcp" else { return false }
        return (fromPort ?? 0) <= port && port <= (toPort ?? 65535)
    }
}

/// Everything `diagnose` reads; built by the I/O shell, judged by `DiagnoseJudgement`.
public struct DiagnoseFacts: Sendable, Equatable {
    public var stateName: String
    /// DescribeInstanceStatus: `ok`, `impaired`, `initializing`, … (nil when not running or unread).
    public var instanceStatus: String?
    public var systemStatus: String?
    public var keyName: String?
    public var keyMatch: KeyMatch
    public var ingress: [IngressRule]
    /// `--from CIDR`, or nil for "from anywhere".
    public var from: String?
    /// Inbound entries of the subnet's network ACL; nil when they could not be read.
    public var aclEntries: [ACLEntry]?
    /// The subnet's route table has 0.0.0.0/0 to an internet gateway; nil when unread.
    public var routeToInternet: Bool?
    public var publicAddress: String?
    public var elasticIP: Bool
    public var consoleErrors: [String]
    public var routes: RouteReport

    public init(
        stateName: String, instanceStatus: String? = nil, systemStatus: String? = nil, keyName: String?,
        keyMatch: KeyMatch,
        ingress: [IngressRule], from: String? = nil, aclEntries: [ACLEntry]? = nil, routeToInternet: Bool? = nil,
        publicAddress: String?, elasticIP: Bool = false, consoleErrors: [String] = [], routes: RouteReport
    ) {
        self.stateName = stateName
        self.instanceStatus = instanceStatus
        self.systemStatus = systemStatus
        self.keyName = keyName
        self.keyMatch = keyMatch
        self.ingress = ingress
        self.from = from
        self.aclEntries = aclEntries
        self.routeToInternet = routeToInternet
        self.publicAddress = publicAddress
        self.elasticIP = elasticIP
        self.consoleErrors = consoleErrors
        self.routes = routes
    }
}
