import Foundation
import RescueModel

/// How far a run got. Each value means "this step is done"; the engine journals before and after
/// every step, so after a crash the record says exactly what may be half done (the next step).
public enum RunStep: String, Codable, CaseIterable, Comparable, Sendable {
    case planned
    case snapshotted
    case agentUploaded
    case targetStopped
    case rootDetached
    case attachedToRescue
    case reportReceived
    case detachedFromRescue
    case rootReturned
    case targetRestored
    case cleanedUp

    /// Position in the journal order.
    var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (a: RunStep, b: RunStep) -> Bool { a.index < b.index }

    public var next: RunStep? {
        let all = Self.allCases
        return index + 1 < all.count ? all[index + 1] : nil
    }

    /// Before this step nothing of the user's has changed (a snapshot and an upload change nothing).
    public var targetTouched: Bool { self >= .agentUploaded }
}

/// The run's outcome so far.
public enum RunStatus: String, Codable, Sendable {
    case inProgress = "in-progress"
    case rollingBack = "rolling-back"
    case done
    case rolledBack = "rolled-back"
    /// Stopped on an error that rollback could not undo: the record says where everything is.
    case needsAttention = "needs-attention"
}

/// One run, as written to $XDG_STATE_HOME/keyrescue/runs/RUN.json. No secrets: no credentials,
/// no presigned URLs (their signatures are bearer tokens), no private key.
public struct RunRecord: Codable, Equatable, Sendable {
    public static let currentVersion = 1
    public var version = RunRecord.currentVersion
    public var plan: RescuePlan
    public var step: RunStep = .planned
    public var status: RunStatus = .inProgress
    public var createdAt: Date
    public var updatedAt: Date
    public var snapshotID: String?
    public var rescueInstanceID: String?
    public var securityGroupID: String?
    public var bucketCreated = false
    public var objectKeys: [String] = []
    /// Where the root volume is, in words, updated around every volume move.
    public var rootVolumeWhere: String
    public var report: RescueReport?
    public var lastError: String?
    public var stoppedAt: Date?
    public var restartedAt: Date?
    /// When the current rescue host's presigned report URL stops working (nil: unknown, as after a
    /// recovery from tags); a host past it is replaced on resume.
    public var rescueHostValidUntil: Date?
    /// Rescue hosts launched by this run (nil for one) and those replaced, for cleanup.
    public var rescueLaunches: Int?
    public var retiredRescueInstanceIDs: [String]?
    /// The rescue host types EC2 refused, in the order tried (plan.rescueHost.instanceTypes): the
    /// next launch takes the first type not in here, with a ClientToken of its own.
    public var rescueTypeFailures: [RescueTypeFailure]?
    /// When the current rescue host was launched (or found by its token): EC2 may answer NotFound
    /// for it until `EngineTiming.eventualConsistency` after that, also to a later `resume`.
    public var rescueLaunchedAt: Date?
    public struct RescueTypeFailure: Codable, Equatable, Sendable {
        public var type: String
        /// EC2's error code (`InsufficientInstanceCapacity`, `Unsupported`, …), or the StateReason
        /// code of a launch that ended terminated.
        public var code: String
        public var message: String
    }
    /// When the root's current DetachVolume was sent, and when its holder was terminated to free
    /// it (a detach stuck `busy`): how long a stuck detach has lasted.
    public var rootDetachRequestedAt: Date?
    public var rootFreedByTerminationAt: Date?
    /// When StartInstances of the target was accepted (cleared on resume): a target seen
    /// `stopped` after it fell back.
    public var startRequestedAt: Date?
    /// The target's public IPv4 after the rescue, when it has one.
    public var address: String?
    /// `--standby`: when EnterStandby and ExitStandby were sent (journaled before the call) and
    /// when Auto Scaling accepted them. A request without an acceptance was cut short by a crash:
    /// the lifecycle state says whether it got through.
    public var enterStandbyRequestedAt: Date?
    public var enterStandbyAcceptedAt: Date?
    public var exitStandbyRequestedAt: Date?
    public var exitStandbyAcceptedAt: Date?
    /// Human log of what happened, one line per event.
    public var history: [String] = []
    /// The door route of a door rescue (DoorRunJournal); nil for the swap, and in journals written
    /// before the doors (they were all swaps). A door rescue never stops the target.
    public var route: RescueRoute?
    /// When a door rescue ended, rescued or not.
    public var finishedAt: Date?
    /// The route that ran this record: a door's, else the swap.
    public var rescueRoute: RescueRoute { route ?? .swap }

    public init(plan: RescuePlan, now: Date) {
        self.plan = plan
        createdAt = now
        updatedAt = now
        rootVolumeWhere = "attached to \(plan.target.instanceID) at \(plan.target.rootDeviceName)"
    }

    public var runID: String { plan.runID }
    /// The compressed agent, shared by every run that uses this build (AgentDelivery).
    public var agentKey: String { AgentDelivery.objectKey(agentSHA256: plan.delivery.agentSHA256) }
    public var reportKey: String { plan.delivery.prefix + "report.json" }
    /// Where the rescue host says it fetched and checked the agent (rule: ready before the stop).
    public var readyKey: String { plan.delivery.prefix + "ready" }
    /// Nothing of the target changed yet: its stop was never asked for (nor, for a stopped
    /// target, its root detached).
    public var targetUntouched: Bool { stoppedAt == nil && step < .targetStopped }

    /// Seconds the target was down (stopped) for this run, when known: none for a door rescue.
    public var downtime: Double? {
        if rescueRoute != .swap { return 0 }
        guard let stoppedAt, let restartedAt else { return nil }
        return restartedAt.timeIntervalSince(stoppedAt)
    }
}

/// The tags mirrored on the target while a rescue is in progress, so that `resume` and `rollback`
/// work from a workstation without the journal.
public enum RunTags {
    public static let run = "keyrescue:run"
    public static let step = "keyrescue:step"
    public static let rootVolume = "keyrescue:root-volume"
    public static let rootDevice = "keyrescue:root-device"
    public static let rescueInstance = "keyrescue:rescue-instance"
    public static let originalState = "keyrescue:original-state"
    /// On each rescue host: the ClientToken it was launched with, to find it again after a crash.
    public static let launch = "keyrescue:launch"
    /// `--standby`: the Auto Scaling group the target was moved to Standby in, from just before
    /// EnterStandby (a rollback from the tags then knows to move it back).
    public static let standbyGroup = "keyrescue:standby-group"
    public static let all = [run, step, rootVolume, rootDevice, rescueInstance, originalState, standbyGroup]

    public static func values(_ record: RunRecord) -> [(String, String)] {
        var tags = [
            (run, record.runID), (step, record.step.rawValue), (rootVolume, record.plan.target.rootVolumeID),
            (rootDevice, record.plan.target.rootDeviceName), (originalState, record.plan.target.originalState.rawValue),
        ]
        if let rescue = record.rescueInstanceID { tags.append((rescueInstance, rescue)) }
        if record.enterStandbyRequestedAt != nil, let group = record.plan.target.autoScalingGroupName {
            tags.append((standbyGroup, group))
        }
        return tags
    }
}
