import Foundation
import RescueModel

/// The shell a door route runs on the live instance: fetch (SSM) or receive (Instance Connect)
/// the xz-compressed static agent, unpack it with xz or else python3's lzma (as the rescue host's
/// bootstrap, deploy/rescue-user-data.sh.tmpl), check its SHA-256, and run
/// `keyrescue-agent inject --root / … --json`, whose report is the last line of stdout.
public enum DoorAgentScript {
    /// Exit statuses of the script itself, before the agent runs: nothing was changed.
    public static let fetchFailed = 90
    public static let cannotUnpack = 91
    public static let checksumMismatch = 92

    public static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The agent's command line for the live system.
    static func inject(_ keys: RescuePlan.Keys, sudo: Bool) -> String {
        var words = (sudo ? ["sudo", "-n"] : []) + ["./keyrescue-agent", "inject", "--root", "/", "--json"]
        for key in keys.publicKeys { words.append("--public-key-text=" + quote(key)) }
        if let user = keys.user { words += ["--user", quote(user)] }
        if keys.replace { words.append("--replace") }
        return words.joined(separator: " ")
    }

    /// Unpack, check and run; `fetch` is the command that leaves `keyrescue-agent.xz` in the working directory.
    static func lines(fetch: [String], agentSHA256: String, keys: RescuePlan.Keys, sudo: Bool, unpack: Bool = true)
        -> [String]
    {
        [
            "set -u", "work=$(mktemp -d /tmp/keyrescue.XXXXXX) && cd \"$work\" || exit \(fetchFailed)",
            "trap 'cd /; rm -rf \"$work\"' EXIT",
        ] + fetch + (unpack ? unpackLines : []) + [
            // --status, not a redirection to /dev/null: the check must not depend on anything but sha256sum.
            "echo \(quote(agentSHA256 + "  keyrescue-agent")) | sha256sum -c --status - || { echo \"keyrescue: the agent does not match its SHA-256 ($(wc -c < keyrescue-agent) bytes arrived)\" >&2; exit \(checksumMismatch); }",
            "chmod 700 keyrescue-agent", inject(keys, sudo: sudo),
        ]
    }

    static let unpackLines = [
        "if command -v xz >/dev/null; then xz -d -c keyrescue-agent.xz > keyrescue-agent || exit \(cannotUnpack)",
        "elif command -v python3 >/dev/null; then python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], \"wb\"))' keyrescue-agent.xz keyrescue-agent || exit \(cannotUnpack)",
        "else echo 'keyrescue: neither xz nor python3 to unpack the agent' >&2; exit \(cannotUnpack); fi",
    ]

    /// SSM: the agent comes from a presigned GET URL (curl, else python3).
    public static func ssmCommands(agentURL: URL, agentSHA256: String, keys: RescuePlan.Keys) -> [String] {
        let url = quote(agentURL.absoluteString)
        let fetch =
            "curl -sS -f --retry 3 --connect-timeout 10 --max-time 120 -o keyrescue-agent.xz \(url) || python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \(url) keyrescue-agent.xz || exit \(fetchFailed)"
        return lines(fetch: [fetch], agentSHA256: agentSHA256, keys: keys, sudo: false)
    }

    /// Instance Connect: the agent arrives uncompressed on stdin of the ssh session (no S3, and
    /// nothing to unpack: the login user's PATH may have neither xz nor python3).
    public static func sshScript(agentSHA256: String, keys: RescuePlan.Keys) -> String {
        lines(
            fetch: ["cat > keyrescue-agent || exit \(fetchFailed)"], agentSHA256: agentSHA256, keys: keys, sudo: true,
            unpack: false
        )
        .joined(separator: "\n")
    }

    /// The agent's report from the command's output (its last JSON line), or nil.
    public static func report(fromOutput output: String) -> RescueReport? {
        for line in output.split(whereSeparator: \.isNewline).reversed() where line.hasPrefix("{") {
            if let report = try? WireFormat.decodeReport(Array(line.utf8)) { return report }
        }
        return nil
    }

    /// How the route ended when the agent reported: rescued, or refused (the agent changes nothing
    /// when it refuses, so the next route may try); nil when there is no report.
    static func attempt(fromOutput output: String, plan: RescuePlan, route: RescueRoute) -> DoorAttempt? {
        guard let report = report(fromOutput: output) else { return nil }
        guard report.ok else {
            return .fellThrough("the agent refused on the live system: \(report.error?.message ?? "no reason given")")
        }
        return .done(outcome(report, plan: plan, route: route))
    }

    /// What the summary shows for a door rescue: no snapshot, no downtime.
    public static func outcome(_ report: RescueReport, plan: RescuePlan, route: RescueRoute) -> RescueOutcome {
        var outcome = RescueOutcome(
            runID: plan.runID, instanceID: plan.target.instanceID, user: report.user, address: nil,
            keyFingerprint: report.keyFingerprint, hostKeys: report.hostKeys.map(\.knownHostsKey),
            hostKeyFingerprints: report.hostKeys.map { "\($0.type) \($0.fingerprint)" }, snapshotID: nil,
            downtimeSeconds: 0,
            finalState: "running", warnings: report.warnings.map(\.message))
        outcome.route = route
        return outcome
    }
}
