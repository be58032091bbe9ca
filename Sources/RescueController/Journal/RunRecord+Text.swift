import Foundation

/// How `keyrescue runs` and `keyrescue status RUN` show a record: the swap's step and root volume,
/// or a door rescue's route, times and downtime (it has neither steps nor a volume move).
extension RunRecord {
    /// One line of `keyrescue runs`.
    public var listLine: String {
        let id = "\(runID)  \(plan.target.instanceID)  \(status.rawValue)"
        guard let route else { return "\(id)  step \(step.rawValue)  \(rootVolumeWhere)" }
        return "\(id)  route \(route.rawValue)  downtime 0 s  started \(Self.time(createdAt))"
    }

    /// `keyrescue status RUN`, before the last error and the history.
    public var statusLines: [String] {
        let target = plan.target
        guard let route else {
            return [
                "run \(runID): \(status.rawValue), last step done: \(step.rawValue)",
                "  instance:    \(target.instanceID) (was \(target.originalState))",
                "  root volume: \(target.rootVolumeID), \(rootVolumeWhere)",
                "  snapshot:    \(snapshotID ?? "none")",
                "  rescue host: \(rescueInstanceID ?? "none")",
            ]
        }
        return [
            "run \(runID): \(status.rawValue), route \(route.rawValue)",
            "  instance:    \(target.instanceID) (never stopped: downtime 0 s)",
            "  started:     \(Self.time(createdAt))",
            "  finished:    \(finishedAt.map(Self.time) ?? "not yet")",
            "  snapshot:    none (a door route takes none)",
        ]
    }

    static func time(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
