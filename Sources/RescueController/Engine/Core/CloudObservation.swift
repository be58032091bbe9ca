import AWSKit
import Foundation
import RescueModel

/// What the driver read of the cloud just before a decision. A nil part was not read for this
/// decision (the core asks only for what the next step needs: `RescueDecision.needs`).
public struct CloudObservation: Sendable, Equatable {
    public var now: Date
    public var target: TargetView?
    public var root: RootView?
    /// The recorded rescue host's state; `.gone` when EC2 no longer knows it.
    public var rescueHost: HostView?
    /// The agent's report, when one was found (S3, or the console fallback).
    public var report: RescueReport?
    /// The rescue host fetched the agent and checked its SHA-256 (its `ready` object, or the
    /// console line as the fallback); nil when not looked at.
    public var rescueHostReady: Bool?
    /// EC2 ended the rescue host's launch for want of capacity (its StateReason): the next type
    /// is tried (RescueHostTypes).
    public var rescueHostLaunchFailure: String?
    /// `--standby`: the target's place in its Auto Scaling group (DescribeAutoScalingInstances).
    public var autoScaling: AutoScalingView?

    public init(
        now: Date, target: TargetView? = nil, root: RootView? = nil, rescueHost: HostView? = nil,
        report: RescueReport? = nil, rescueHostReady: Bool? = nil
    ) {
        self.now = now
        self.target = target
        self.root = root
        self.rescueHost = rescueHost
        self.report = report
        self.rescueHostReady = rescueHostReady
    }

    public struct TargetView: Sendable, Equatable {
        public var state: InstanceState
        /// DeleteOnTermination of the mapping at the plan's root device, when it is there.
        public var rootDeleteOnTermination: Bool?
        /// Its public IPv4, for the summary.
        public var address: String?
        /// EC2's StateReason message, e.g. why a start fell back to `stopped`.
        public var stateReason: String?
        public init(
            state: InstanceState, rootDeleteOnTermination: Bool? = nil, address: String? = nil,
            stateReason: String? = nil
        ) {
            self.state = state
            self.stateReason = stateReason
            self.rootDeleteOnTermination = rootDeleteOnTermination
            self.address = address
        }
    }

    /// The root volume and its (single) attachment.
    public struct RootView: Sendable, Equatable {
        public var state: VolumeState
        public var attachedTo: String?
        public var attachment: AttachmentState?
        public init(state: VolumeState, attachedTo: String? = nil, attachment: AttachmentState? = nil) {
            self.state = state
            self.attachedTo = attachedTo
            self.attachment = attachment
        }
        public static let available = RootView(state: .available)
        public static func attached(to id: String, _ state: AttachmentState = .attached) -> RootView {
            RootView(state: .inUse, attachedTo: id, attachment: state)
        }
    }

    public enum HostView: Sendable, Equatable {
        case state(InstanceState)
        case gone
    }
}

/// Which parts of the cloud a decision needs read.
public struct ObservationNeeds: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let target = ObservationNeeds(rawValue: 1)
    public static let root = ObservationNeeds(rawValue: 2)
    public static let rescueHost = ObservationNeeds(rawValue: 4)
    public static let report = ObservationNeeds(rawValue: 8)
    /// The rescue host's readiness (and a failure report its bootstrap left instead).
    public static let ready = ObservationNeeds(rawValue: 16)
    /// The target's Auto Scaling lifecycle state (`--standby`).
    public static let autoScaling = ObservationNeeds(rawValue: 1 << 8)
}
