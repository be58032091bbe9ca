/// The three ways to reset a key: two doors that need no downtime, and the volume swap.
public enum RescueRoute: String, Sendable, Codable, CaseIterable {
    case ssm
    case instanceConnect = "instance-connect"
    case swap
}

/// What `--method` asks for: one route, or `auto` (SSM, then Instance Connect, then the swap).
public enum RescueMethod: String, Sendable, Codable, CaseIterable {
    case auto, ssm
    case instanceConnect = "instance-connect"
    case swap

    /// The routes this method may try, in order.
    public var candidates: [RescueRoute] {
        switch self {
        case .auto: [.ssm, .instanceConnect, .swap]
        case .ssm: [.ssm]
        case .instanceConnect: [.instanceConnect]
        case .swap: [.swap]
        }
    }
}

/// One route's judgement: open or not, and why (shown by `plan`, `diagnose` and the exit-3 error).
public struct RouteVerdict: Sendable, Codable, Equatable {
    public var open: Bool
    public var why: String
    public init(open: Bool, why: String) {
        self.open = open
        self.why = why
    }
    public static func closed(_ why: String) -> Self { Self(open: false, why: why) }
    public static func opened(_ why: String) -> Self { Self(open: true, why: why) }
}

/// Every route's judgement and the one chosen; JSON keys as `plan --json` and `diagnose --json` carry them.
public struct RouteReport: Sendable, Codable, Equatable {
    public var ssm: RouteVerdict
    public var instanceConnect: RouteVerdict
    public var swap: RouteVerdict
    /// The first open route the method allows, or nil when none is. Not in the `routes` object:
    /// `plan --json` and `diagnose --json` carry it beside it.
    public var chosen: RescueRoute?

    enum CodingKeys: String, CodingKey { case ssm, instanceConnect, swap }

    public init(ssm: RouteVerdict, instanceConnect: RouteVerdict, swap: RouteVerdict, chosen: RescueRoute?) {
        self.ssm = ssm
        self.instanceConnect = instanceConnect
        self.swap = swap
        self.chosen = chosen
    }

    public func verdict(_ route: RescueRoute) -> RouteVerdict {
        switch route {
        case .ssm: ssm
        case .instanceConnect: instanceConnect
        case .swap: swap
        }
    }

    /// The open routes the method allows, in the order they are tried: a door that fails before
    /// changing anything falls through to the next.
    public func attempts(for method: RescueMethod) -> [RescueRoute] {
        method.candidates.filter { verdict($0).open }
    }

    /// Human lines for `plan` and `diagnose`.
    public var lines: [String] {
        RescueRoute.allCases.map { route in
            let v = verdict(route)
            let mark = route == chosen ? "chosen" : (v.open ? "open" : "not open")
            return "\(route.rawValue): \(mark): \(v.why)"
        }
    }
}
