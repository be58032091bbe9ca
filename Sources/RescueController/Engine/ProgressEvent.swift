import Foundation

/// What the engine tells its user while it works; the CLI renders these (live lines on a
/// terminal, plain lines when piped, JSON lines with --json).
public enum ProgressEvent: Sendable, Equatable {
    case stepStarted(step: String, detail: String)
    case stepFinished(step: String, seconds: Double)
    /// A poll during a wait: what it saw.
    case waiting(step: String, observed: String, elapsed: Double)
    case created(kind: String, id: String)
    case note(String)
    case warning(String)

    public var json: [String: String] {
        switch self {
        case .stepStarted(let s, let d): ["event": "step-started", "step": s, "detail": d]
        case .stepFinished(let s, let t): ["event": "step-finished", "step": s, "seconds": String(format: "%.1f", t)]
        case .waiting(let s, let o, let e):
            ["event": "waiting", "step": s, "observed": o, "elapsed": String(format: "%.1f", e)]
        case .created(let k, let i): ["event": "created", "kind": k, "id": i]
        case .note(let m): ["event": "note", "message": m]
        case .warning(let m): ["event": "warning", "message": m]
        }
    }
}

public typealias ProgressSink = @Sendable (ProgressEvent) -> Void

/// The end of a successful rescue: what the summary prints.
public struct RescueOutcome: Sendable, Equatable {
    public var runID: String
    public var instanceID: String
    public var user: String?
    public var address: String?
    public var keyFingerprint: String?
    public var hostKeys: [String]
    public var hostKeyFingerprints: [String]
    public var snapshotID: String?
    public var downtimeSeconds: Double?
    public var finalState: String
    public var warnings: [String]
    /// Which route reset the key; door routes have no downtime (`downtimeSeconds` 0).
    public var route: RescueRoute = .swap
}
