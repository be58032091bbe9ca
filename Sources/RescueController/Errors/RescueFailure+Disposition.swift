// Stand-in until core-engine's branch is merged: there RescueFailure carries a typed
// `disposition` (Engine/RescueFailure.swift), and this file must be deleted. Here it is read from
// the `state` words the engine writes today.
extension RescueFailure {
    public enum Disposition: Sendable, Equatable { case rolledBack, resumable, nothingChanged }
    public var disposition: Disposition { state.hasPrefix("rolled back") ? .rolledBack : .resumable }
}
