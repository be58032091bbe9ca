/// The swap's confirmation: it stops the instance, which no door does. Asked when a door was
/// tried and fell through, or when preflight found warnings, unless `--yes`; the question and the
/// exit-4 error name the doors that did not serve and the real warnings (never "0 warning(s)").
public struct SwapQuestion: Sendable, Equatable {
    public var instanceID: String
    public var warnings: [PlanFinding]
    public var doors: DoorSequence.DoorsShut

    public init(instanceID: String, warnings: [PlanFinding], doors: DoorSequence.DoorsShut = .init()) {
        self.instanceID = instanceID
        self.warnings = warnings
        self.doors = doors
    }

    /// Whether the swap must be confirmed at all. A swap straight away (no door was open, or
    /// `--method swap`) with no warnings is not asked, as before the doors.
    public var needsAnswer: Bool { doors.tried || !warnings.isEmpty }

    /// Why the swap needs a yes, one line each: the doors, then the warnings.
    public var reasons: [String] {
        (doors.tried ? doors.lines : []) + warnings.map { "warning: \($0.message)" }
    }

    /// What a terminal shows before the [y/N].
    public var prompt: String {
        let head =
            doors.tried
            ? "No door worked, so the swap comes next: it stops \(instanceID) and starts it again."
            : "The swap stops \(instanceID) and starts it again."
        return ([head] + reasons.map { "  \($0)" } + ["Go ahead with the swap? [y/N] "]).joined(separator: "\n")
    }

    /// Exit 4: refused at the terminal (`asked`), or no terminal to ask at (`--json`, no tty).
    public func notConfirmed(asked: Bool) -> ControllerError {
        let why = "the swap would stop \(instanceID) (\(reasons.joined(separator: "; ")))"
        return .notConfirmed(why, asked: asked)
    }
}
