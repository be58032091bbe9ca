/// A permission as far as it can be known without trying the call: SendCommand and
/// SendSSHPublicKey have no DryRun, so they stay unknown until tried.
public enum PermissionState: String, Sendable, Codable, Equatable {
    case granted, denied, unknown
}

/// How the instance stands with Systems Manager, from DescribeInstanceInformation.
public enum SSMStanding: Sendable, Equatable {
    /// Listed: its PingStatus (`Online`, `ConnectionLost`, `Inactive`) and PlatformType (`Linux`, `Windows`, `MacOS`).
    case listed(pingStatus: String, platformType: String)
    /// Not listed: no instance profile with AmazonSSMManagedInstanceCore, or no agent.
    case unknown
    /// DescribeInstanceInformation itself was refused (AccessDenied).
    case denied(awsCode: String)
    /// DescribeInstanceInformation failed otherwise (no Systems Manager at this endpoint, …).
    case unreadable(awsCode: String)
}

/// Everything route judgement reads. Built by the I/O shell from Describe calls; pure from here.
public struct RouteFacts: Sendable, Equatable {
    public var running: Bool
    public var stateName: String
    public var ssm: SSMStanding
    public var image: ImageLogin
    /// `--user`, which overrides the image's customary user.
    public var user: String?
    /// Public IPv4, else private IPv4, else IPv6: where the ssh session goes.
    public var reachableAddress: String?
    public var sendCommand: PermissionState
    public var sendSSHPublicKey: PermissionState
    /// Why the swap cannot be done (preflight refusals), or nil when it can.
    public var swapRefusal: String?

    public init(
        running: Bool, stateName: String, ssm: SSMStanding, image: ImageLogin, user: String? = nil,
        reachableAddress: String?, sendCommand: PermissionState = .unknown,
        sendSSHPublicKey: PermissionState = .unknown,
        swapRefusal: String? = nil
    ) {
        self.running = running
        self.stateName = stateName
        self.ssm = ssm
        self.image = image
        self.user = user
        self.reachableAddress = reachableAddress
        self.sendCommand = sendCommand
        self.sendSSHPublicKey = sendSSHPublicKey
        self.swapRefusal = swapRefusal
    }

    /// The login user the Instance Connect route would push a key for.
    public var loginUser: String? { user ?? image.user }
}

public enum RouteJudgement {
    /// Every route's verdict and the first open one `method` allows.
    public static func report(_ facts: RouteFacts, method: RescueMethod = .auto) -> RouteReport {
        var report = RouteReport(
            ssm: ssm(facts), instanceConnect: instanceConnect(facts), swap: swap(facts), chosen: nil)
        report.chosen = report.attempts(for: method).first
        return report
    }

    static func permissionNote(_ state: PermissionState, _ action: String) -> String {
        state == .unknown ? "; permission \(action) unknown until tried" : ""
    }

    static func ssm(_ facts: RouteFacts) -> RouteVerdict {
        guard facts.running else { return .closed("the instance is \(facts.stateName); a command needs it running") }
        switch facts.ssm {
        case .denied(let code):
            return .closed("not open (permission ssm:DescribeInstanceInformation missing: \(code))")
        case .unreadable(let code):
            return .closed("Systems Manager could not be asked (DescribeInstanceInformation: \(code))")
        case .unknown:
            return .closed(
                "not an online SSM managed node (unknown to Systems Manager: no instance profile with AmazonSSMManagedInstanceCore, or no SSM agent)"
            )
        case .listed(let ping, let platform):
            guard ping == "Online" else { return .closed("not an online SSM managed node (ping status \(ping))") }
            guard platform == "Linux" else { return .closed("the managed node runs \(platform), not Linux") }
            if facts.sendCommand == .denied { return .closed("not open (permission ssm:SendCommand missing)") }
            return .opened("online SSM managed node (Linux)" + permissionNote(facts.sendCommand, "ssm:SendCommand"))
        }
    }

    static func instanceConnect(_ facts: RouteFacts) -> RouteVerdict {
        guard facts.running else { return .closed("the instance is \(facts.stateName); ssh needs it running") }
        guard facts.image.hasInstanceConnect else {
            let image = facts.image.family.map { "the image (\($0))" } ?? "the image (not recognised)"
            return .closed("\(image) does not come with ec2-instance-connect")
        }
        guard let user = facts.loginUser else { return .closed("the login user is unknown: give --user") }
        guard let address = facts.reachableAddress else { return .closed("the instance has no reachable address") }
        if facts.sendSSHPublicKey == .denied {
            return .closed("not open (permission ec2-instance-connect:SendSSHPublicKey missing)")
        }
        return .opened(
            "\(facts.image.family ?? "the image") has ec2-instance-connect; ssh as \(user) to \(address)"
                + permissionNote(facts.sendSSHPublicKey, "ec2-instance-connect:SendSSHPublicKey"))
    }

    static func swap(_ facts: RouteFacts) -> RouteVerdict {
        if let refusal = facts.swapRefusal { return .closed(refusal) }
        return .opened("stops the instance and swaps its root volume onto a rescue host (about a minute of downtime)")
    }

    /// `--method ssm|instance-connect` on a closed route: exit 3 before any change, saying why.
    public static func refusal(_ report: RouteReport, method: RescueMethod) -> ControllerError? {
        guard method != .auto, report.chosen == nil, let route = method.candidates.first else { return nil }
        return .refused(["--method \(route.rawValue): \(report.verdict(route).why)"])
    }
}
