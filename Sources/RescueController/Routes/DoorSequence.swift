/// How a door route ended: it reset the key (no stop, no snapshot), or it failed before changing
/// anything and the next route is tried.
public enum DoorAttempt: Sendable, Equatable {
    case done(RescueOutcome)
    case fellThrough(String)
}

/// The door routes in front of the swap: judge, refuse a closed `--method`, try each open door in
/// order, and say whether the swap must follow. I/O is injected, so fall-through is tested with fakes.
public struct DoorSequence: Sendable {
    public var method: RescueMethod
    /// Reads what decides the routes (no SendCommand, no SendSSHPublicKey).
    public var judge: @Sendable (RescuePlan) async throws -> RouteReport
    /// Runs one door route.
    public var attempt: @Sendable (RescueRoute, RescuePlan) async throws -> DoorAttempt

    public init(
        method: RescueMethod, judge: @escaping @Sendable (RescuePlan) async throws -> RouteReport,
        attempt: @escaping @Sendable (RescueRoute, RescuePlan) async throws -> DoorAttempt
    ) {
        self.method = method
        self.judge = judge
        self.attempt = attempt
    }

    /// What the doors left to do.
    public enum Result: Sendable, Equatable {
        /// A door reset the key.
        case rescued(RescueOutcome, RescueRoute)
        /// No door did; the swap follows. `triedDoors` is true when a door was tried and fell
        /// through, so the swap (which stops the instance) must be confirmed.
        case swap(triedDoors: Bool)
    }

    /// With `dryRun` (plan), only judges: no door is tried.
    public func run(_ plan: RescuePlan, dryRun: Bool, output: @Sendable (ResetFlow.Output) -> Void) async throws
        -> Result
    {
        let report = try await judge(plan)
        output(.routes(report))
        if let refusal = RouteJudgement.refusal(report, method: method) { throw refusal }
        if dryRun { return .swap(triedDoors: false) }
        var tried = false
        for route in report.attempts(for: method) where route != .swap {
            tried = true
            switch try await attempt(route, plan) {
            case .done(let outcome): return .rescued(outcome, route)
            case .fellThrough(let why): output(.note("route \(route.rawValue) fell through: \(why)"))
            }
        }
        guard method.candidates.contains(.swap) else {
            throw ControllerError.refused([
                "--method \(method.rawValue): the route was tried and failed before changing anything"
            ])
        }
        return .swap(triedDoors: tried)
    }
}
