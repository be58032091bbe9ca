import AWSKit
import Foundation
import RescueController

/// After the engine: find the address, verify the login, print what the user needs.
enum Summary {
    static func finish(_ outcome: RescueOutcome, plan: RescuePlan, client: AWSClient, out: ProgressRenderer) async throws {
        let instance = try await client.ec2.describeInstances(ids: [plan.target.instanceID]).first
        let address = instance?.publicIpAddress ?? instance?.privateIpAddress ?? "?"
        let user = outcome.user ?? plan.keys.user ?? "?"
        let verifier = LoginVerifier(
            address: address, user: user, privateKey: plan.keys.privateKeyPath, hostKeys: outcome.hostKeys,
            instanceID: plan.target.instanceID, sshOptions: plan.options.sshOptions)
        let knownHosts = JournalStore.defaultDirectory().appendingPathComponent("known_hosts-\(plan.target.instanceID)").path
        if !outcome.hostKeys.isEmpty { verifier.writeKnownHosts(knownHosts) }
        var verified = "not checked (--verify none)"
        var failed: String?
        if plan.target.originalState != .running {
            verified = "not checked: the instance was stopped and stays stopped"
        } else if plan.options.verify != "none" {
            out.handle(.stepStarted(step: "verify", detail: "\(verifier.probeEndpoint.host):\(verifier.probeEndpoint.port)"))
            let started = Date()
            if await verifier.waitForPort(timeout: 300) {
                verified = "port 22 answers"
                if plan.options.verify == "ssh" {
                    if plan.keys.privateKeyPath == nil || outcome.hostKeys.isEmpty {
                        verified += "; ssh not tried (\(plan.keys.privateKeyPath == nil ? "no private key at hand" : "no host keys on the disk"))"
                    } else {
                        let login = await verifier.login(knownHostsFile: knownHosts, timeout: 180)
                        if login.ok { verified = "logged in with the new key (host key checked)" } else { failed = "ssh login failed: \(login.detail)" }
                    }
                }
            } else {
                failed = "port 22 on \(verifier.probeEndpoint.host) did not answer within 300 s"
            }
            out.handle(.stepFinished(step: "verify", seconds: Date().timeIntervalSince(started)))
        }
        let command = verifier.command(knownHosts: outcome.hostKeys.isEmpty ? nil : knownHosts).joined(separator: " ")
        if out.mode == .json {
            var object: [String: Any] = [
                "event": "summary", "runID": outcome.runID, "instance": outcome.instanceID, "user": user, "address": address,
                "keyFingerprint": outcome.keyFingerprint ?? "", "hostKeys": outcome.hostKeyFingerprints, "ssh": command,
                "snapshot": outcome.snapshotID ?? "", "verified": failed ?? verified,
            ]
            if let downtime = outcome.downtimeSeconds { object["downtimeSeconds"] = Int(downtime) }
            out.emitJSON(object)
        } else {
            say("""

                rescued \(outcome.instanceID) (run \(outcome.runID))
                  user:        \(user)
                  address:     \(address)
                  key:         \(outcome.keyFingerprint ?? "?")
                  host keys:   \(outcome.hostKeyFingerprints.isEmpty ? "none found on the disk" : outcome.hostKeyFingerprints.joined(separator: "\n               "))
                  snapshot:    \(outcome.snapshotID ?? "none") (kept; delete it when you are happy)
                  downtime:    \(outcome.downtimeSeconds.map { "\(Int($0)) s" } ?? "none (it was stopped)")
                  login check: \(failed ?? verified)
                  log in with: \(command)
                """)
            for warning in outcome.warnings { say("  warning: \(warning)") }
        }
        if let failed { throw Fail(failed, code: ExitStatus.loginFailed) }
    }
}
