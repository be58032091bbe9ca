import AWSKit
import Foundation
import RescueModel

/// The driver's loop: observe, decide, act, journal; and its waits.
extension RescueEngine {
    /// What the loop remembers between polls within this process (never journaled).
    struct LoopState {
        var step: RunStep?
        var stepStarted = Date.distantPast
        var firstLook = true
        var waits: [EngineWait: (started: Date, polls: Int)] = [:]
        var lastConsole = Date.distantPast
        var lastConsoleLine = ""
        /// The first NotFound for the recorded rescue host in a row (observeRescueHost).
        var rescueHostUnseenSince: Date?
    }

    /// Runs the record's status (forward or rollback) to its end.
    func run(_ record: inout RunRecord) async throws {
        var loop = LoopState()
        while true {
            if record.status == .inProgress, let next = record.step.next, loop.step != next {
                loop.step = next
                loop.stepStarted = now
                loop.firstLook = true
                events(.stepStarted(step: next.rawValue, detail: describe(next, record)))
            }
            let seen = try await observe(record, RescueDecision.needs(record, firstLook: loop.firstLook), &loop)
            let action = RescueDecision.next(record, seen, timing: timing)
            // Once the report wait has checked the host and the root, it polls only the report.
            loop.firstLook = action != .wait(.report)
            switch action {
            case .finish(let status):
                record.status = status
                try save(&record, status == .done ? "rescue complete" : "finished: \(status.rawValue)")
                return
            case .fail(let failure):
                throw failure
            case .wait(let wait):
                try await pause(wait, record, seen, &loop)
            case .completeStep(let step):
                try await complete(step, &record, seen, loop)
                loop.waits = [:]
            case .cleanUp:
                try save(&record, "→ clean up")
                try await cleanUp(&record)
                if record.status == .rollingBack {
                    record.status = .rolledBack
                    try save(&record, "rolled back")
                    return
                }
                try await complete(.cleanedUp, &record, seen, loop)
            default:
                loop.waits = [:]
                try save(&record, "→ \(Self.words(action))")
                try await perform(action, &record, &loop)
                try checkpoint(.actionDone(action))
                try save(&record, "✓ \(Self.words(action))")
            }
        }
    }

    func complete(_ step: RunStep, _ record: inout RunRecord, _ seen: CloudObservation, _ loop: LoopState) async throws
    {
        record.step = step
        if step == .targetRestored, record.plan.target.originalState == .running {
            record.restartedAt = now
        }
        if step >= .rootReturned, let address = seen.target?.address { record.address = address }
        try save(&record, "done: \(step.rawValue)")
        if step.targetTouched, step < .cleanedUp { try await mirrorTags(record) }
        events(.stepFinished(step: step.rawValue, seconds: now.timeIntervalSince(loop.stepStarted)))
        try checkpoint(.stepDone(step))
    }

    /// Sleeps before the next poll of `wait`, or gives up at its deadline.
    func pause(_ wait: EngineWait, _ record: RunRecord, _ seen: CloudObservation, _ loop: inout LoopState) async throws
    {
        var entry = loop.waits[wait] ?? (now, 0)
        entry.polls += 1
        loop.waits[wait] = entry
        let elapsed = now.timeIntervalSince(entry.started)
        let step = record.status == .rollingBack ? "rollback" : record.step.next?.rawValue ?? "?"
        let observed = Self.summary(wait, record, seen, consoleLine: loop.lastConsoleLine)
        events(.waiting(step: step, observed: observed, elapsed: elapsed))
        try checkpoint(.waiting(step: step, wait))
        let (interval, timeout) = timing.schedule(wait, polls: entry.polls)
        guard elapsed + interval <= timeout else {
            if wait == .rescueHostReady {
                throw EngineFailure.rescueHostNotReady(
                    "not ready after \(Int(elapsed)) s (last console line: \(loop.lastConsoleLine.isEmpty ? "none" : loop.lastConsoleLine))"
                )
            }
            if wait == .report {
                throw ControllerError(
                    "no report from the agent after \(Int(elapsed)) s; last console line: \(loop.lastConsoleLine.isEmpty ? "(none)" : loop.lastConsoleLine)"
                )
            }
            throw ControllerError(
                "\(wait.rawValue): still not done after \(entry.polls) polls in \(Int(elapsed)) s (last seen: \(observed)); check the AWS console, then resume"
            )
        }
        try await environment.clock.sleep(seconds: interval)
    }

    // MARK: observation

    func observe(_ record: RunRecord, _ needs: ObservationNeeds, _ loop: inout LoopState) async throws
        -> CloudObservation
    {
        let t = record.plan.target
        var seen = CloudObservation(now: now)
        if needs.contains(.report) {
            seen.report = try await report(record, &loop)
            if seen.report != nil { return seen }
        }
        if needs.contains(.ready) {
            (seen.rescueHostReady, seen.report) = try await readiness(record, &loop)
        }
        if needs.contains(.target) {
            if let target = try await cloud.describeInstance(t.instanceID) {
                let mapping = target.blockDeviceMappings.first { $0.deviceName == t.rootDeviceName }
                seen.target = .init(
                    state: target.state, rootDeleteOnTermination: mapping?.deleteOnTermination,
                    address: target.publicIpAddress ?? target.ipv6Address, stateReason: target.stateReason)
            }
        }
        if needs.contains(.root) {
            guard let volume = try await cloud.describeVolume(t.rootVolumeID) else {
                throw ControllerError(
                    "the root volume \(t.rootVolumeID) is not found; check it in the EC2 console (snapshot \(record.snapshotID ?? "none") is kept)"
                )
            }
            let attachment = volume.attachments.first
            seen.root = .init(state: volume.state, attachedTo: attachment?.instanceId, attachment: attachment?.state)
        }
        if needs.contains(.autoScaling) { seen.autoScaling = try await autoScalingView(record) }
        if needs.contains(.rescueHost), let host = record.rescueInstanceID {
            (seen.rescueHost, seen.rescueHostLaunchFailure) = try await observeRescueHost(host, record, &loop)
        }
        return seen
    }

    /// The agent's report from S3, or from the serial console (at most every `consoleEvery`).
    func report(_ record: RunRecord, _ loop: inout LoopState) async throws -> RescueReport? {
        if let data = try await objectIfThere(record, key: record.reportKey) {
            return try WireFormat.decodeReport(Array(data))
        }
        guard let console = try await console(record, &loop) else { return nil }
        return try? ReportConsoleLine.find(in: console)
    }

    /// Whether the rescue host fetched and checked the agent (its `ready` object, or the console
    /// line the bootstrap writes then), and a failure report its bootstrap left instead.
    func readiness(_ record: RunRecord, _ loop: inout LoopState) async throws -> (Bool, RescueReport?) {
        if try await objectIfThere(record, key: record.readyKey) != nil { return (true, nil) }
        if let data = try await objectIfThere(record, key: record.reportKey) {
            return (false, try WireFormat.decodeReport(Array(data)))
        }
        guard let console = try await console(record, &loop) else { return (false, nil) }
        if console.contains("keyrescue[\(record.runID)]: agent verified") { return (true, nil) }
        return (false, try? ReportConsoleLine.find(in: console))
    }

    /// The rescue host's console, at most every `consoleEvery`; keeps its last keyrescue line.
    func console(_ record: RunRecord, _ loop: inout LoopState) async throws -> String? {
        guard let host = record.rescueInstanceID, now.timeIntervalSince(loop.lastConsole) >= timing.consoleEvery else {
            return nil
        }
        loop.lastConsole = now
        guard let console = try? await cloud.consoleOutput(host), !console.isEmpty else { return nil }
        if let line = console.split(whereSeparator: \.isNewline).last(where: { $0.contains("keyrescue[") }) {
            loop.lastConsoleLine = String(line)
        }
        return console
    }

    /// An object of this run, or nil while it is not there. A 403 counts as "not there yet" like
    /// a 404 (S3 answers 403 for a missing key to a caller without s3:ListBucket); the wait's
    /// deadline bounds how long.
    func objectIfThere(_ record: RunRecord, key: String) async throws -> Data? {
        do { return try await cloud.getObject(record.plan.delivery.bucket, key: key) } catch let e as AWSError
            where e.httpStatus == 403
        {
            return nil
        }
    }

    static func summary(_ wait: EngineWait, _ record: RunRecord, _ seen: CloudObservation, consoleLine: String)
        -> String
    {
        let t = record.plan.target
        switch wait {
        case .targetStopped, .targetRunning: return "\(t.instanceID) \(seen.target?.state.rawValue ?? "?")"
        case .rescueHostRunning, .rescueHostStopped, .rescueHostReady:
            let state: String =
                switch seen.rescueHost {
                case .state(let s): s.rawValue
                case .gone: "gone"
                case nil: "?"
                }
            return "\(record.rescueInstanceID ?? "?") \(state)"
        case .volumeAttached, .volumeDetached:
            return "\(t.rootVolumeID) \(seen.root?.attachment?.rawValue ?? seen.root?.state.rawValue ?? "?")"
        case .report: return consoleLine.isEmpty ? "waiting for the agent" : consoleLine
        case .standbyEntered, .backInService: return standbySummary(record, seen)
        }
    }
}
