import Foundation
import RescueController

/// Renders what a reset shows (`ResetFlow.Output`): text lines, or one JSON object per line.
enum ResetRenderer {
    static func render(_ output: ResetFlow.Output, _ out: ProgressRenderer) {
        switch output {
        case .finding(let finding): render(finding, out)
        case .plan(let plan): render(plan, out)
        case .note(let line):
            if out.mode == .json { out.emitJSON(["event": "note", "message": line]) } else { say(line) }
        case .summary(let outcome, let check): summary(outcome, check, out)
        case .routes(let report): render(report, out)
        }
    }

    /// The same `routes` and `chosen` as `diagnose --json`.
    static func render(_ report: RouteReport, _ out: ProgressRenderer) {
        guard out.mode == .json else {
            for line in report.lines { say("route \(line)") }
            return
        }
        let data = (try? JSONEncoder().encode(report)) ?? Data()
        let routes = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        out.emitJSON(["event": "routes", "routes": routes, "chosen": report.chosen?.rawValue ?? NSNull()])
    }

    static func render(_ finding: PlanFinding, _ out: ProgressRenderer) {
        let kind = finding.severity == .refusal ? "refused" : "warning"
        if out.mode == .json {
            out.emitJSON(["event": kind, "code": finding.code, "message": finding.message, "hint": finding.hint])
        } else {
            say("\(kind): \(finding.message)\n  what to do: \(finding.hint)")
        }
    }

    static func render(_ plan: RescuePlan, _ out: ProgressRenderer) {
        let t = plan.target
        if out.mode == .json {
            out.emitJSON([
                "event": "plan", "runID": plan.runID, "instance": t.instanceID, "rootVolume": t.rootVolumeID,
                "rescueImage": plan.rescueHost.imageID, "rescueType": plan.rescueHost.instanceType,
                "bucket": plan.delivery.bucket, "subnet": plan.rescueHost.subnetID ?? "",
                "subnetReason": plan.rescueHost.subnetReason ?? "",
                "associatePublicIP": plan.rescueHost.associatePublicIP,
                "standbyGroup": plan.standby ? t.autoScalingGroupName ?? "" : "",
                "tags": Dictionary(plan.tags.map { ($0.key, $0.value) }) { a, _ in a },
            ])
            return
        }
        let bucketNote = plan.delivery.createBucket ? " (bucket created if missing)" : ""
        let user = plan.keys.user.map { " for \($0)" } ?? ""
        let host = plan.rescueHost
        let tags =
            plan.tags.isEmpty
            ? ""
            : "\n  tags on everything created: " + plan.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        // --standby: out of the group's service for the stop (RescueDecision+Standby.swift).
        let standby =
            plan.standby
            ? "\n     (first to Standby in Auto Scaling group \(t.autoScalingGroupName ?? "?"), desired capacity -1; InService again after the start)"
            : ""
        say(
            [
                "plan for \(t.instanceID) (\(t.availabilityZone), \(t.originalState)):",
                "  rescue host subnet: \(host.subnetID ?? "default")\(host.associatePublicIP ? " (with a public IPv4)" : "")"
                    + " — \(host.subnetReason ?? "default subnet")\(tags)",
                "  1. snapshot \(t.rootVolumeID) (kept\(plan.options.deleteSnapshot ? " until success" : ""))",
                "  2. upload the agent to s3://\(plan.delivery.bucket)/\(plan.delivery.prefix)\(bucketNote)",
                "  3. stop \(t.instanceID) while a rescue host (\(plan.rescueHost.imageID), \(plan.rescueHost.instanceType)) boots"
                    + standby,
                "  4. move \(t.rootVolumeID) from \(t.rootDeviceName) to the rescue host at \(plan.rescueHost.attachDevice)",
                "  5. the agent writes the key\(user)\(plan.keys.replace ? ", removing the others" : "")",
                "  6. move it back to \(t.rootDeviceName)\(t.originalState == .running ? ", start \(t.instanceID)" : ""), remove the rescue host",
                "  7. verify: \(plan.options.verify)",
            ].joined(separator: "\n"))
    }

    static func summary(_ outcome: RescueOutcome, _ check: LoginCheck, _ out: ProgressRenderer) {
        let verified = check.failure ?? check.verified
        if out.mode == .json {
            var object: [String: Any] = [
                "event": "summary", "runID": outcome.runID, "instance": outcome.instanceID, "user": check.user,
                "address": check.address,
                "keyFingerprint": outcome.keyFingerprint ?? "", "hostKeys": outcome.hostKeyFingerprints,
                "ssh": check.command,
                "snapshot": outcome.snapshotID ?? "", "verified": verified,
            ]
            if let downtime = outcome.downtimeSeconds { object["downtimeSeconds"] = Int(downtime) }
            object["route"] = outcome.route.rawValue
            out.emitJSON(object)
            return
        }
        let hostKeys =
            outcome.hostKeyFingerprints.isEmpty
            ? "none found on the disk" : outcome.hostKeyFingerprints.joined(separator: "\n               ")
        say(
            """

            rescued \(outcome.instanceID) (run \(outcome.runID))
              route:       \(outcome.route.rawValue)
              user:        \(check.user)
              address:     \(check.address)
              key:         \(outcome.keyFingerprint ?? "?")
              host keys:   \(hostKeys)
              snapshot:    \(outcome.snapshotID ?? "none") (kept; delete it when you are happy)
              downtime:    \(outcome.downtimeSeconds.map { "\(Int($0)) s" } ?? "none (it was stopped)")
              login check: \(verified)
              log in with: \(check.command)
            """)
        for warning in outcome.warnings { say("  warning: \(warning)") }
    }
}
