import AWSKit
import ArgumentParser
import Foundation
import Glibc
import RescueController
import RescueModel

struct ResetOptions: ParsableArguments {
    @Argument(help: "The instance to rescue (i-…).") var instanceID: String
    @Option(name: .customLong("public-key"), help: "The OpenSSH public key file to install.") var publicKey: String?
    @Option(name: .customLong("generate-key"), help: "Make a new ed25519 key pair at PATH (private key stays here).") var generateKey: String?
    @Option(help: "The login user (default: worked out from the disk).") var user: String?
    @Flag(name: .customLong("replace-keys"), help: "Remove every other key from authorized_keys.") var replaceKeys = false
    @Option(help: "Subnet for the rescue host (same zone as the instance).") var subnet: String?
    @Option(name: .customLong("rescue-ami"), help: "AMI for the rescue host (default: latest Amazon Linux 2023 x86_64).") var rescueAMI: String?
    @Option(name: .customLong("instance-type"), help: "Rescue host type (default: a small type offered in the zone).") var instanceType: String?
    @Option(help: "S3 bucket for the agent and report (default: keyrescue-ACCOUNT-REGION, created).") var bucket: String?
    @Option(help: "After the rescue: none, port (port 22 answers) or ssh (log in with the new key).") var verify: String = "ssh"
    @Option(name: .customLong("ssh-option"), parsing: .unconditionalSingleValue, help: "An option for the ssh check (repeatable), e.g. -J or -oPort=2222.") var sshOptions: [String] = []
    @Flag(name: .customLong("delete-snapshot"), help: "Delete the safety snapshot after a successful rescue.") var deleteSnapshot = false
    @Flag(name: .customLong("dry-run"), help: "Plan and probe permissions; change nothing.") var dryRun = false
    @Flag(help: "Accept the warnings without asking.") var yes = false
    @Flag(help: "One JSON event per line on stdout.") var json = false
    @Option(help: "The static keyrescue-agent to upload.") var agent: String?

    func validate() throws {
        guard (publicKey == nil) != (generateKey == nil) else { throw ValidationError("give exactly one of --public-key FILE or --generate-key PATH") }
        guard ["none", "port", "ssh"].contains(verify) else { throw ValidationError("--verify is none, port or ssh") }
    }
}

struct Reset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Install a new SSH public key on an instance (the whole rescue).")
    @OptionGroup var options: ResetOptions
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        try await exitOnFailure { try await ResetFlow(options: options, aws: aws).run() }
    }
}

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Same as reset --dry-run: preflight, plan and permission probes only.")
    @OptionGroup var options: ResetOptions
    @OptionGroup var aws: AWSOptions

    func run() async throws {
        var options = options
        options.dryRun = true
        let flow = ResetFlow(options: options, aws: aws)
        try await exitOnFailure { try await flow.run() }
    }
}

/// The reset command's flow: keys, preflight, confirmation, execution, verification, summary.
struct ResetFlow {
    var options: ResetOptions
    var aws: AWSOptions

    func run() async throws {
        let out = ProgressRenderer.forStdout(json: options.json)
        let client = try await aws.client()
        let agentPath = try AgentLocator.find(options.agent)
        let runID = Self.newRunID()
        let keys = try loadKeys()
        var request = ResetRequest(instanceID: options.instanceID, publicKeys: [keys.line], agentPath: agentPath)
        request.privateKeyPath = keys.privatePath
        request.user = options.user
        request.replaceKeys = options.replaceKeys
        request.subnet = options.subnet
        request.rescueAMI = options.rescueAMI
        request.instanceType = options.instanceType
        request.bucket = options.bucket
        request.verify = options.verify
        request.deleteSnapshot = options.deleteSnapshot
        request.sshOptions = options.sshOptions

        let preflight = Preflight(aws: client)
        let result = try await preflight.run(request, runID: runID)
        report(result, out)
        guard result.refusals.isEmpty, let plan = result.plan else {
            throw Fail("refused: \(result.refusals.map(\.message).joined(separator: "; "))", code: ExitStatus.refused)
        }
        // Probed before every rescue, not only --dry-run: a permission found missing halfway
        // would cost the user a stop, a rollback and the downtime for nothing.
        let denied = try await preflight.probePermissions(plan)
        if options.dryRun { printPlan(plan, out) }
        if !denied.isEmpty {
            throw Fail("missing permissions: \(denied.joined(separator: ", ")); grant them (deploy/iam-policy.json); nothing was changed",
                       code: ExitStatus.permissionsMissing)
        }
        if options.dryRun {
            emit(out, "dry run: the rescue could go ahead; nothing was changed")
            return
        }
        try confirm(result.warnings, out)

        let journal = JournalStore(directory: JournalStore.defaultDirectory())
        let engine = RescueEngine(aws: client, journal: journal, environment: engineEnvironment(), events: { out.handle($0) })
        emit(out, "run \(runID): rescuing \(plan.target.instanceID) (journal \(journal.path(of: runID).path))")
        let outcome = try await engine.execute(plan)
        try await Summary.finish(outcome, plan: plan, client: client, out: out)
    }

    func loadKeys() throws -> (line: String, privatePath: String?) {
        if let path = options.generateKey {
            let pair = try KeyGenerator.generate(at: path, comment: "keyrescue@\(options.instanceID)")
            return (pair.publicLine, pair.privatePath)
        }
        let path = options.publicKey ?? ""
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Fail("cannot read \(path)", code: 2) }
        do {
            let key = try PublicKey(parsing: text)
            let privatePath = path.hasSuffix(".pub") ? String(path.dropLast(4)) : nil
            return (key.line, privatePath.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil })
        } catch {
            throw Fail("\(path): \(error)", code: 2)
        }
    }

    func report(_ result: PreflightResult, _ out: ProgressRenderer) {
        for finding in result.findings {
            let kind = finding.severity == .refusal ? "refused" : "warning"
            if out.mode == .json {
                out.emitJSON(["event": kind, "code": finding.code, "message": finding.message, "hint": finding.hint])
            } else {
                say("\(kind): \(finding.message)\n  what to do: \(finding.hint)")
            }
        }
    }

    func printPlan(_ plan: RescuePlan, _ out: ProgressRenderer) {
        let t = plan.target
        let lines = [
            "plan for \(t.instanceID) (\(t.availabilityZone), \(t.originalState)):",
            "  1. snapshot \(t.rootVolumeID) (kept\(plan.options.deleteSnapshot ? " until success" : ""))",
            "  2. upload the agent to s3://\(plan.delivery.bucket)/\(plan.delivery.prefix)\(plan.delivery.createBucket ? " (bucket created if missing)" : "")",
            "  3. stop \(t.instanceID) while a rescue host (\(plan.rescueHost.imageID), \(plan.rescueHost.instanceType)) boots",
            "  4. move \(t.rootVolumeID) from \(t.rootDeviceName) to the rescue host at \(plan.rescueHost.attachDevice)",
            "  5. the agent writes the key\(plan.keys.user.map { " for \($0)" } ?? "")\(plan.keys.replace ? ", removing the others" : "")",
            "  6. move it back to \(t.rootDeviceName)\(t.originalState == .running ? ", start \(t.instanceID)" : ""), remove the rescue host",
            "  7. verify: \(plan.options.verify)",
        ]
        if out.mode == .json {
            out.emitJSON(["event": "plan", "runID": plan.runID, "instance": t.instanceID, "rootVolume": t.rootVolumeID,
                          "rescueImage": plan.rescueHost.imageID, "rescueType": plan.rescueHost.instanceType, "bucket": plan.delivery.bucket])
        } else {
            say(lines.joined(separator: "\n"))
        }
    }

    func confirm(_ warnings: [PlanFinding], _ out: ProgressRenderer) throws {
        guard !warnings.isEmpty, !options.yes else { return }
        guard isatty(0) == 1, out.mode != .json else {
            throw Fail("\(warnings.count) warning(s) above need confirmation: pass --yes to go ahead", code: ExitStatus.needsConfirmation)
        }
        say("Go ahead despite these warnings? [y/N] ", terminator: "")
        guard let answer = readLine()?.lowercased(), answer == "y" || answer == "yes" else {
            throw Fail("not confirmed; nothing was changed", code: ExitStatus.needsConfirmation)
        }
    }

    func emit(_ out: ProgressRenderer, _ line: String) {
        if out.mode == .json { out.emitJSON(["event": "note", "message": line]) } else { say(line) }
    }

    /// `kr-20261125T074512-1a2b`: sortable, unique enough, valid as a ClientToken and an S3 prefix.
    static func newRunID() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return "kr-\(f.string(from: Date()))-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
    }
}

/// The engine's clock and crash hook. The fault matrix (Tests/e2e/test_fault_matrix.py) sets
/// KEYRESCUE_TEST_KILL_AFTER=STEP: the process SIGKILLs itself right after that step is journaled.
func engineEnvironment() -> EngineEnvironment {
    guard let step = ProcessInfo.processInfo.environment["KEYRESCUE_TEST_KILL_AFTER"].flatMap(RunStep.init(rawValue:)) else {
        return EngineEnvironment()
    }
    return EngineEnvironment { point in
        if point == .stepDone(step) { kill(getpid(), SIGKILL) }
    }
}
