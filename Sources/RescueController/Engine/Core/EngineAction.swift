import AWSKit
import RescueModel

/// One thing the driver does next, as the pure core decided it. No I/O happens here: the driver
/// (RescueEngine) carries each action out, journals before and after, then observes again.
public enum EngineAction: Sendable, Equatable {
    /// Find the run's snapshot by its tag, or create it.
    case createSnapshot
    /// Create the bucket when the plan says so, and upload the agent.
    case uploadAgent
    /// Mirror the run in tags on the target, then StopInstances.
    case stopTarget
    /// Find the host this launch's ClientToken made, or RunInstances with it.
    case launchRescueHost
    /// The host cannot do its job (the root is already off it): terminate it, delete a report it
    /// left, and count a new launch.
    case retireRescueHost(why: String)
    /// Marketplace volumes attach to and detach from stopped instances only.
    case stopRescueHost
    case startRescueHost
    case detachRoot(from: String)
    /// A detach from the rescue host stuck `busy`/`detaching` (the agent died with the root
    /// mounted): make sure the host's mapping of the root has DeleteOnTermination false, then
    /// terminate the host, which frees the volume.
    case terminateToFreeRoot(host: String)
    /// The last resort when terminating the host did not free the root: DetachVolume Force=true.
    case forceDetachRoot(from: String)
    case attachRoot(to: String, device: String)
    /// AttachVolume resets the root's DeleteOnTermination: put back what the target had.
    case restoreDeleteOnTermination
    /// StartInstances (capacity errors retried with backoff, then the run stops resumable).
    case startTarget
    case terminateRescueHost
    /// Keep the agent's report (S3 or console) in the record.
    case acceptReport(RescueReport)
    /// The last action of a run: terminate the host, delete objects, group and tags. Forward, it
    /// completes `cleanedUp`; in a rollback it ends the run as rolled back.
    case cleanUp
    // `--standby` (an InService Auto Scaling member): out of service before the stop, back after.
    /// Journal the request, then EnterStandby with ShouldDecrementDesiredCapacity.
    case enterStandby
    /// Journal the request, then ExitStandby (the group increments its desired capacity again).
    case exitStandby
    /// Nothing to do until the cloud moves: poll again after the wait's interval.
    case wait(EngineWait)
    /// The step is done: journal it.
    case completeStep(RunStep)
    /// The run is over with this status.
    case finish(RunStatus)
    /// The run cannot go on from what was observed: roll back (forward) or stop (rollback).
    case fail(EngineFailure)
}

/// What a wait waits for; each has its own poll interval and deadline (EngineTiming).
public enum EngineWait: String, Sendable, Equatable {
    case targetStopped, targetRunning, rescueHostRunning, rescueHostReady, rescueHostStopped, volumeAttached,
        volumeDetached
    case report
    /// `--standby`: the target's lifecycle state reaches `Standby`, then `InService` again.
    case standbyEntered, backInService
}

/// Why the pure core gave up, in words for the user.
public enum EngineFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The agent ran and reported a failure: that is the answer, nothing to retry.
    case agent(RescueReport.Failure)
    /// The cloud is in a state the rescue cannot continue from.
    case unexpected(String)
    /// No more rescue hosts may be launched (or none can be, without the key).
    case rescueHostUnusable(String)
    /// The rescue host could not get ready before the stop: the target was never touched.
    case rescueHostNotReady(String)
    /// StartInstances was accepted but the target fell back to `stopped` (EC2's StateReason).
    case startFellBack(String)
    /// Auto Scaling refused EnterStandby/ExitStandby, or the target is in no state to move: why,
    /// and what to do.
    case standby(String, next: String)

    public var description: String {
        switch self {
        case .agent(let failure): "the agent failed: \(failure.description)"
        case .unexpected(let why), .rescueHostUnusable(let why): why
        case .rescueHostNotReady(let why): "the rescue host could not get ready: \(why)"
        case .startFellBack(let why): "the instance went back to stopped after StartInstances: \(why)"
        case .standby(let why, _): why
        }
    }
}
