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
        /// No door did; the swap follows.
        case swap(DoorsShut)
    }

    /// Why no door served, for the swap's confirmation (SwapQuestion).
    public struct DoorsShut: Sendable, Equatable {
        /// One line per door the method allows: "route ssm: not open: …" or "route ssm fell through: …".
        public var lines: [String] = []
        /// A door was tried and fell through: the swap that follows stops the instance, so it is asked.
        public var tried = false
        public init(lines: [String] = [], tried: Bool = false) {
            self.lines = lines
            self.tried = tried
        }
    }

    /// With `dryRun` (plan), only judges: no door is tried.
    public func run(_ plan: RescuePlan, dryRun: Bool, output: @Sendable (ResetFlow.Output) -> Void) async throws
        -> Result
    {
        let report = try await judge(plan)
        output(.routes(report))
        if let refusal = RouteJudgement.refusal(report, method: method) { throw refusal }
        if dryRun { return .swap(DoorsShut()) }
        var shut = DoorsShut()
        for route in method.candidates where route != .swap {
            let verdict = report.verdict(route)
            guard verdict.open else {
                shut.lines.append("route \(route.rawValue): not open: \(verdict.why)")
                continue
            }
            shut.tried = true
            switch try await attempt(route, plan) {
            case .done(let outcome): return .rescued(outcome, route)
            case .fellThrough(let why):
                shut.lines.append("route \(route.rawValue) fell through: \(why)")
                output(.note(shut.lines[shut.lines.count - 1]))
            }
        }
        guard method.candidates.contains(.swap) else {
            throw ControllerError.refused([
                "--method \(method.rawValue): the route was tried and failed before changing anything"
            ])
        }
        return .swap(shut)
    }
}
