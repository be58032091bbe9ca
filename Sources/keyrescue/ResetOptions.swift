import ArgumentParser
import RescueController

struct ResetOptions: ParsableArguments {
    @Argument(help: "The instance to rescue (i-…).") var instanceID: String
    @Option(name: .customLong("public-key"), help: "The OpenSSH public key file to install.") var publicKey: String?
    @Option(name: .customLong("generate-key"), help: "Make a new ed25519 key pair at PATH (private key stays here).")
    var generateKey: String?
    @Option(help: "The login user (default: worked out from the disk).") var user: String?
    @Flag(name: .customLong("replace-keys"), help: "Remove every other key from authorized_keys.") var replaceKeys =
        false
    @Option(help: "Subnet for the rescue host (same zone as the instance).") var subnet: String?
    @Option(
        name: .customLong("rescue-ami"), help: "AMI for the rescue host (default: latest Amazon Linux 2023 x86_64).")
    var rescueAMI: String?
    @Option(name: .customLong("instance-type"), help: "Rescue host type (default: a small type offered in the zone).")
    var instanceType: String?
    @Option(help: "S3 bucket for the agent and report (default: keyrescue-ACCOUNT-REGION, created).") var bucket:
        String?
    @Option(help: "After the rescue: none, port (port 22 answers) or ssh (log in with the new key).") var verify:
        String = "ssh"
    @Option(
        name: .customLong("ssh-option"), parsing: .unconditionalSingleValue,
        help: "An option for the ssh check (repeatable), e.g. -J or -oPort=2222.") var sshOptions: [String] = []
    @Flag(name: .customLong("delete-snapshot"), help: "Delete the safety snapshot after a successful rescue.")
    var deleteSnapshot = false
    @Option(
        name: .customLong("tag"), parsing: .unconditionalSingleValue,
        help: "KEY=VALUE put on everything the rescue creates and on its DryRun probes (repeatable).")
    var tags: [String] = []
    @Flag(
        name: .customLong("allow-instance-store-loss"),
        help: "Rescue a type with instance-store volumes although the stop erases them.")
    var allowInstanceStoreLoss = false
    @Flag(help: "An InService Auto Scaling member: Standby before the stop, InService again after.")
    var standby = false
    @Flag(name: .customLong("dry-run"), help: "Plan and probe permissions; change nothing.") var dryRun = false
    @Flag(help: "Accept the warnings without asking.") var yes = false
    @Flag(help: "One JSON event per line on stdout.") var json = false
    @Option(help: "The static keyrescue-agent to upload.") var agent: String?
    @Option(help: "auto (SSM, then Instance Connect, then the swap), ssm, instance-connect or swap.")
    var method: RescueMethod = .auto
    @Option(name: .customLong("route-timeout"), help: "Seconds each door route (SSM, Instance Connect) may take.")
    var routeTimeout: Int = 90

    func validate() throws {
        guard (publicKey == nil) != (generateKey == nil) else {
            throw ValidationError("give exactly one of --public-key FILE or --generate-key PATH")
        }
        guard ["none", "port", "ssh"].contains(verify) else { throw ValidationError("--verify is none, port or ssh") }
        do { _ = try UserTags.parse(tags) } catch { throw ValidationError("\(error)") }
        guard routeTimeout >= 10 else { throw ValidationError("--route-timeout is at least 10 seconds") }
    }
}
