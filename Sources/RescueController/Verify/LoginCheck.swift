import AWSKit
import Foundation

/// After the engine: where the instance answers now, and whether the new key logs in there.
public struct LoginCheck: Sendable, Equatable {
    public var address: String
    public var user: String
    /// What was proven ("logged in with the new key (host key checked)") or why nothing was tried.
    public var verified: String
    /// Set when the check failed: the command ends with exit 7.
    public var failure: String?
    /// The ssh command that logs in (printed in the summary).
    public var command: String

    public init(address: String, user: String, verified: String, failure: String? = nil, command: String) {
        self.address = address
        self.user = user
        self.verified = verified
        self.failure = failure
        self.command = command
    }

    /// Where to log in: the public IPv4; without one, the IPv6 address (reachable from outside,
    /// unlike the private IPv4, which comes last).
    static func address(of instance: Instance?) -> String {
        instance?.publicIpAddress ?? instance?.ipv6Address ?? instance?.privateIpAddress ?? "?"
    }

    /// Looks up the instance's address, pins the host keys the agent read from the disk, then
    /// checks what `plan.options.verify` asks: nothing, port 22, or an ssh login.
    public static func run(
        _ outcome: RescueOutcome, plan: RescuePlan, ec2: EC2Client, knownHostsDirectory: URL, events: ProgressSink
    ) async -> LoginCheck {
        let instance: Instance?
        do {
            instance = try await ec2.describeInstances(ids: [plan.target.instanceID]).first
        } catch {
            return LoginCheck(
                address: "?", user: outcome.user ?? plan.keys.user ?? "?", verified: "not checked",
                failure: "cannot read the instance's address: \(error)", command: "keyrescue status \(plan.runID)")
        }
        let address = Self.address(of: instance)
        let user = outcome.user ?? plan.keys.user ?? "?"
        let verifier = LoginVerifier(
            address: address, user: user, privateKey: plan.keys.privateKeyPath, hostKeys: outcome.hostKeys,
            instanceID: plan.target.instanceID, sshOptions: plan.options.sshOptions)
        let knownHosts = knownHostsDirectory.appendingPathComponent("known_hosts-\(plan.target.instanceID)").path
        var pinned = !outcome.hostKeys.isEmpty
        var unpinned: String?
        if pinned {
            do { try verifier.writeKnownHosts(knownHosts) } catch {
                pinned = false
                unpinned = "the host keys could not be saved to \(knownHosts): \(error)"
            }
        }
        let command = verifier.command(knownHosts: pinned ? knownHosts : nil).joined(separator: " ")
        var check = LoginCheck(address: address, user: user, verified: "not checked (--verify none)", command: command)
        if let unpinned {
            check.failure = unpinned
            return check
        }
        if plan.target.originalState != .running {
            check.verified = "not checked: the instance was stopped and stays stopped"
            return check
        }
        guard plan.options.verify != "none" else { return check }
        let endpoint = verifier.probeEndpoint
        events(.stepStarted(step: "verify", detail: "\(endpoint.host):\(endpoint.port)"))
        let started = ContinuousClock.now
        defer {
            let elapsed = started.duration(to: .now).components
            events(.stepFinished(step: "verify", seconds: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18))
        }
        guard await verifier.waitForPort(timeout: 300) else {
            check.failure = "port \(endpoint.port) on \(endpoint.host) did not answer within 300 s"
            return check
        }
        check.verified = "port \(endpoint.port) answers"
        guard plan.options.verify == "ssh" else { return check }
        if plan.keys.privateKeyPath == nil || outcome.hostKeys.isEmpty {
            check.verified +=
                "; ssh not tried (\(plan.keys.privateKeyPath == nil ? "no private key at hand" : "no host keys on the disk"))"
            return check
        }
        let login = await verifier.login(knownHostsFile: knownHosts, timeout: 180)
        if login.ok {
            check.verified = "logged in with the new key (host key checked)"
        } else {
            check.failure = "ssh login failed: \(login.detail)"
        }
        return check
    }
}
