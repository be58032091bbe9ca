/// The order of a reset: keys → preflight → permission probes → confirmation → engine → login
/// check → summary. Every stage with I/O is injected (`Stages`), and so is what the user sees
/// (`output`) and how a question is asked (`confirm`), so the sequencing is tested with fakes and
/// the executable only renders.
public struct ResetFlow: Sendable {
    /// What a reset shows its user, in order; the executable renders it (text or JSON).
    public enum Output: Sendable, Equatable {
        case finding(PlanFinding)
        case plan(RescuePlan)
        case note(String)
        /// Every route's verdict and the chosen one (`--method` other than swap).
        case routes(RouteReport)
        case summary(RescueOutcome, LoginCheck)
    }

    /// What the user answered when the warnings needed a yes.
    public enum Answer: Sendable { case yes, no, cannotAsk }

    public struct Stages: Sendable {
        public var loadKeys: @Sendable () throws -> ResetKeys
        public var preflight: @Sendable (_ keys: ResetKeys) async throws -> PreflightResult
        /// The IAM actions DryRun probes found denied, in the order a rescue needs them.
        public var probePermissions: @Sendable (RescuePlan) async throws -> [String]
        /// Asked before the swap (SwapQuestion.needsAnswer) unless `--yes`.
        public var confirm: @Sendable (SwapQuestion) async -> Answer
        public var execute: @Sendable (RescuePlan) async throws -> RescueOutcome
        public var checkLogin: @Sendable (RescueOutcome, RescuePlan) async -> LoginCheck

        public init(
            loadKeys: @escaping @Sendable () throws -> ResetKeys,
            preflight: @escaping @Sendable (ResetKeys) async throws -> PreflightResult,
            probePermissions: @escaping @Sendable (RescuePlan) async throws -> [String],
            confirm: @escaping @Sendable (SwapQuestion) async -> Answer,
            execute: @escaping @Sendable (RescuePlan) async throws -> RescueOutcome,
            checkLogin: @escaping @Sendable (RescueOutcome, RescuePlan) async -> LoginCheck
        ) {
            self.loadKeys = loadKeys
            self.preflight = preflight
            self.probePermissions = probePermissions
            self.confirm = confirm
            self.execute = execute
            self.checkLogin = checkLogin
        }
    }

    public var stages: Stages
    /// `plan` / `--dry-run`: stop after the probes.
    public var dryRun: Bool
    /// `--yes`: accept the warnings without asking.
    public var acceptWarnings: Bool
    public var output: @Sendable (Output) -> Void
    /// The door routes tried before the swap (`--method`); nil: the swap alone, as before.
    public var doors: DoorSequence?

    public init(
        stages: Stages, dryRun: Bool, acceptWarnings: Bool, doors: DoorSequence? = nil,
        output: @escaping @Sendable (Output) -> Void
    ) {
        self.stages = stages
        self.doors = doors
        self.dryRun = dryRun
        self.acceptWarnings = acceptWarnings
        self.output = output
    }

    /// Runs the reset; returns normally only for exit 0. Every other end is a `ControllerError`
    /// (nothing changed, or the login check failed) or the engine's `RescueFailure`.
    public func run() async throws {
        let keys = try stages.loadKeys()
        let result = try await stages.preflight(keys)
        for finding in result.findings { output(.finding(finding)) }
        guard result.refusals.isEmpty, let plan = result.plan else {
            throw ControllerError.refused(result.refusals.map(\.message))
        }
        // Probed before every rescue, not only a dry run: a permission found missing halfway
        // would cost the user a stop, a rollback and the downtime for nothing.
        let denied = try await stages.probePermissions(plan)
        if dryRun { output(.plan(plan)) }
        guard denied.isEmpty else { throw ControllerError.permissionsMissing(denied) }
        let doorsShut: DoorSequence.DoorsShut
        switch try await throughDoors(plan) {
        case .rescued(let outcome, _):
            try await finish(outcome, plan)
            return
        case .swap(let shut): doorsShut = shut
        }
        if dryRun {
            output(.note("dry run: the rescue could go ahead; nothing was changed"))
            return
        }
        // Falling through from a door to the swap stops the instance: that is asked, unless --yes.
        let question = SwapQuestion(
            instanceID: plan.target.instanceID, warnings: result.warnings, doors: doorsShut)
        if question.needsAnswer, !acceptWarnings {
            switch await stages.confirm(question) {
            case .yes: break
            case .no: throw question.notConfirmed(asked: true)
            case .cannotAsk: throw question.notConfirmed(asked: false)
            }
        }
        output(.note("run \(plan.runID): rescuing \(plan.target.instanceID)"))
        try await finish(try await stages.execute(plan), plan)
    }

    /// The door routes, when `--method` allows them; a dry run only judges them.
    func throughDoors(_ plan: RescuePlan) async throws -> DoorSequence.Result {
        guard let doors else { return .swap(DoorSequence.DoorsShut()) }
        return try await doors.run(plan, dryRun: dryRun, output: output)
    }

    /// The login check with the new key and the summary, whichever route reset the key.
    func finish(_ rescued: RescueOutcome, _ plan: RescuePlan) async throws {
        var outcome = rescued
        let check = await stages.checkLogin(outcome, plan)
        outcome.address = check.address
        output(.summary(outcome, check))
        if let failure = check.failure { throw ControllerError.loginFailed(failure, command: check.command) }
    }
}
