import AWSKit
import Foundation

/// How the engine polls and how long it waits: volume moves closely (a user is waiting),
/// instance states with backoff.
public struct EngineTiming: Sendable {
    /// Poll interval and deadline of a volume move (attach or detach).
    public var volumePoll: Double = 1
    public var volumeTimeout: Double = 600
    /// A detach from the rescue host still `busy` or `detaching` this long after it was sent: the
    /// host is terminated to free the root; this long after that, it is force-detached.
    public var stuckDetachBound: Double = 60
    /// Instance state waits start polling at `instancePoll`, double up to `instancePollMax`.
    public var instancePoll: Double = 2
    public var instancePollMax: Double = 5
    public var instanceTimeout: Double = 1200
    public var reportPoll: Double = 2
    /// The serial console is read as the report's fallback at most this often.
    public var consoleEvery: Double = 20
    public var reportTimeout: Double = 900
    /// How long a new rescue host may take to boot and fetch the agent before the target is
    /// stopped; past it the run ends with the target untouched.
    public var readyTimeout: Double = 600
    public var agentURLLifetime = 1800
    public var reportURLLifetime = 7200
    /// A rescue host whose report URL expires sooner than this is replaced rather than waited for.
    public var reportURLMargin: Double = 600
    /// At most this many rescue hosts per run (the first and its replacements).
    public var maxRescueLaunches = 3
    /// Waits between StartInstances attempts answered with a capacity error.
    public var capacityRetryDelays: [Double] = [5, 10, 20, 40]
    /// A host EC2 does not know yet this long after its launch is taken as pending (EC2's
    /// describe calls are eventually consistent right after a create).
    public var eventualConsistency: Double = 60
    public init() {}

    /// The wait before poll number `polls` (1 for the first) of `wait`, and the wait's deadline.
    public func schedule(_ wait: EngineWait, polls: Int) -> (interval: Double, timeout: Double) {
        switch wait {
        case .volumeAttached, .volumeDetached: return (volumePoll, volumeTimeout)
        case .report: return (reportPoll, reportTimeout)
        case .targetStopped, .targetRunning, .rescueHostRunning, .rescueHostStopped, .rescueHostReady, .standbyEntered,
            .backInService:
            let doubled = instancePoll * pow(2, Double(max(0, min(polls - 1, 16))))
            return (min(doubled, instancePollMax), wait == .rescueHostReady ? readyTimeout : instanceTimeout)
        }
    }

    /// How long the agent waits for the volume once it is ready (the job's deadline): the stop,
    /// the detach and the attach at their deadlines, since the host is ready before the target is
    /// stopped; a Marketplace host's own stop and start on top.
    public func agentVolumeWait(marketplace: Bool) -> Int {
        Int(instanceTimeout * (marketplace ? 3 : 1) + 2 * volumeTimeout)
    }
}

/// Where the driver may be stopped dead (a crash) by the checkpoint hook: the fault tests stop
/// it there and restart from the journal.
public enum EngineCheckpoint: Sendable, Equatable {
    /// The step is journaled as done.
    case stepDone(RunStep)
    /// An action reached the cloud; the journal does not say so yet.
    case actionDone(EngineAction)
    /// A poll of a wait was reported (in the step, or "rollback").
    case waiting(step: String, EngineWait)
}

/// Clock, sleep and the crash hook, injected: production passes the system clock and a hook that
/// SIGKILLs the process at a named step (the e2e fault matrix); tests a stepped clock and a hook
/// that throws to simulate a crash.
public struct EngineEnvironment: Sendable {
    public var clock: any AWSClock
    /// Called at every checkpoint; an error it throws ends the driver at once, journaled as it is
    /// (no failure handling, no rollback: what a crash would leave).
    public var checkpoint: @Sendable (EngineCheckpoint) throws -> Void
    /// Compresses the agent for its upload (AgentDelivery): the `xz` program unless a test says otherwise.
    public var agentCodec: any AgentCodec

    public init(
        clock: any AWSClock = SystemClock(), agentCodec: any AgentCodec = XZCommand(),
        checkpoint: @escaping @Sendable (EngineCheckpoint) throws -> Void = { _ in }
    ) {
        self.clock = clock
        self.agentCodec = agentCodec
        self.checkpoint = checkpoint
    }
}

/// The checkpoint hook's error, passed through the engine unchanged.
struct EngineInterrupted: Error {
    var cause: any Error
}
