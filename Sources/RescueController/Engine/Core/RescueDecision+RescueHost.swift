import AWSKit
import Foundation

/// The rescue host's part of the decisions: the root on a usable host, the report, and the
/// replacement of a host that can no longer do its job.
extension RescueDecision {
    /// Why the recorded host can no longer do its job, or nil when it can (or was not looked at).
    /// Gone (terminated, or shut itself down), or its presigned report URL expires too soon: the
    /// controller was away for long, or temporary credentials signed the URLs and ran out.
    public static func staleness(_ record: RunRecord, _ seen: CloudObservation, timing: EngineTiming) -> String? {
        if let validUntil = record.rescueHostValidUntil, validUntil.timeIntervalSince(seen.now) < timing.reportURLMargin
        {
            return
                "its presigned URLs expire\(validUntil < seen.now ? "d" : "") at \(ISO8601DateFormatter().string(from: validUntil))"
        }
        guard let host = seen.rescueHost else { return nil }
        guard case .state(let state) = host else { return "it is gone" }
        let usable: [InstanceState] =
            record.plan.target.hasProductCodes ? [.pending, .running, .stopping, .stopped] : [.pending, .running]
        return usable.contains(state) ? nil : "it is \(state)"
    }

    /// The next action to get the root onto a usable rescue host, or nil when it is there.
    static func rootOnRescueHost(_ record: RunRecord, _ seen: CloudObservation, timing: EngineTiming) -> EngineAction? {
        guard let host = record.rescueInstanceID else { return launch(record, timing: timing) }
        guard let root = seen.root else { return nil }  // not looked at this poll: as it was
        if let why = staleness(record, seen, timing: timing) {
            // Never terminate a host with the root on it: take it off first.
            if root.attachedTo == host {
                return detachRoot(from: host, record, seen, timing, then: .retireRescueHost(why: why))
            }
            if record.plan.keys.publicKeys.isEmpty {
                return .fail(
                    .rescueHostUnusable(
                        "the rescue host \(host) cannot do its job (\(why)), and this run was recovered from tags, which do not hold the key to give a new one"
                    ))
            }
            let launches = record.rescueLaunches ?? 1
            guard launches < timing.maxRescueLaunches else {
                return .fail(
                    .rescueHostUnusable(
                        "the rescue host \(host) cannot do its job (\(why)) and \(launches) were launched already"))
            }
            return .retireRescueHost(why: why)
        }
        let hostState: InstanceState? = if case .state(let s) = seen.rescueHost { s } else { nil }
        let marketplace = record.plan.target.hasProductCodes
        if hostState == .pending { return .wait(.rescueHostRunning) }
        if root.attachedTo == host {
            switch root.attachment {
            case .attaching: return .wait(.volumeAttached)
            case .detaching, .busy, .detached:
                return .fail(.unexpected("the root volume is leaving the rescue host \(host)"))
            default: return marketplace && hostState == .stopped ? .startRescueHost : nil
            }
        }
        if let holder = root.attachedTo {
            return .fail(.unexpected("the root volume is attached to \(holder), not to the rescue host \(host)"))
        }
        guard root.state == .available else { return .wait(.volumeDetached) }
        if marketplace {
            // Volumes with Marketplace codes attach only to stopped instances.
            switch hostState {
            case .running: return .stopRescueHost
            case .stopping: return .wait(.rescueHostStopped)
            default: break
            }
        }
        return .attachRoot(to: host, device: record.plan.rescueHost.attachDevice)
    }

    static func launch(_ record: RunRecord, timing: EngineTiming) -> EngineAction {
        guard !record.plan.keys.publicKeys.isEmpty else {
            return .fail(
                .rescueHostUnusable(
                    "this run was recovered from tags without a rescue host, and the tags do not hold the key to launch one"
                ))
        }
        return .launchRescueHost
    }

    /// The report wait: a report (accepted once, then judged), or the root on a usable host and
    /// another poll.
    static func report(_ record: RunRecord, _ seen: CloudObservation, timing: EngineTiming) -> EngineAction {
        if let report = record.report {
            guard report.ok else {
                return .fail(
                    .agent(
                        report.error ?? .init(.unrecognized, "the agent reported failure without a reason", hint: "")))
            }
            return .completeStep(.reportReceived)
        }
        if let report = seen.report { return .acceptReport(report) }
        return rootOnRescueHost(record, seen, timing: timing) ?? .wait(.report)
    }
}
