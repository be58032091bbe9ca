/// The lifecycle states EC2 reports, as types: a state EC2 adds later decodes as `unknown`
/// instead of failing, and a misspelt literal no longer compiles. Raw values are EC2's words.
public protocol EC2StateValue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Never fails: a word this build does not know is `unknown(word)`.
    init(rawValue: String)
    var rawValue: String { get }
}

extension EC2StateValue {
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// `instanceState.name` (DescribeInstances, and the state changes of Start/Stop/TerminateInstances).
public enum InstanceState: EC2StateValue {
    case pending, running, shuttingDown, terminated, stopping, stopped
    case unknown(String)

    public init(rawValue raw: String) {
        switch raw {
        case "pending": self = .pending
        case "running": self = .running
        case "shutting-down": self = .shuttingDown
        case "terminated": self = .terminated
        case "stopping": self = .stopping
        case "stopped": self = .stopped
        default: self = .unknown(raw)
        }
    }

    public var rawValue: String {
        switch self {
        case .pending: "pending"
        case .running: "running"
        case .shuttingDown: "shutting-down"
        case .terminated: "terminated"
        case .stopping: "stopping"
        case .stopped: "stopped"
        case .unknown(let raw): raw
        }
    }

    /// On its way out or gone: it will never run again.
    public var isGone: Bool { self == .shuttingDown || self == .terminated }
}

/// A volume's `status` (DescribeVolumes).
public enum VolumeState: EC2StateValue {
    case creating, available, inUse, deleting, deleted, error
    case unknown(String)

    public init(rawValue raw: String) {
        switch raw {
        case "creating": self = .creating
        case "available": self = .available
        case "in-use": self = .inUse
        case "deleting": self = .deleting
        case "deleted": self = .deleted
        case "error": self = .error
        default: self = .unknown(raw)
        }
    }

    public var rawValue: String {
        switch self {
        case .creating: "creating"
        case .available: "available"
        case .inUse: "in-use"
        case .deleting: "deleting"
        case .deleted: "deleted"
        case .error: "error"
        case .unknown(let raw): raw
        }
    }
}

/// An attachment's `status` (DescribeVolumes' attachmentSet, AttachVolume and DetachVolume answers).
public enum AttachmentState: EC2StateValue {
    case attaching, attached, detaching, detached, busy
    case unknown(String)

    public init(rawValue raw: String) {
        switch raw {
        case "attaching": self = .attaching
        case "attached": self = .attached
        case "detaching": self = .detaching
        case "detached": self = .detached
        case "busy": self = .busy
        default: self = .unknown(raw)
        }
    }

    public var rawValue: String {
        switch self {
        case .attaching: "attaching"
        case .attached: "attached"
        case .detaching: "detaching"
        case .detached: "detached"
        case .busy: "busy"
        case .unknown(let raw): raw
        }
    }
}
