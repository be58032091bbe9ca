import ArgumentParser
import Glibc
import RescueAgent
import RescueModel

@main
struct KeyrescueAgent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyrescue-agent",
        abstract: "Writes an SSH public key into a Linux root filesystem on a disk, an image or a directory.",
        discussion: """
            Exit codes: 0 the key is in place (or, with --dry-run/probe, the disk was read); \
            \(ExitCodes.table)
            """,
        version: Injector.agentVersion,
        subcommands: [Inject.self, Probe.self, Run.self])
}

struct SourceOptions: ParsableArguments {
    @Option(help: "A block device holding the target disk (e.g. /dev/nvme1n1).") var device: String?
    @Option(help: "A disk image file (raw).") var image: String?
    @Option(help: "A directory where the target's root filesystem is already mounted.") var root: String?
    @Option(name: .customLong("volume-id"), help: "An EBS volume attached to this host (vol-…).") var volumeID: String?
    @Option(help: "Seconds to wait for --volume-id to appear.") var wait: Int = 0

    func source() throws -> TargetSource {
        let given = [
            device.map(TargetSource.device), image.map(TargetSource.image), root.map(TargetSource.root),
            volumeID.map { TargetSource.volumeID($0, waitSeconds: wait) },
        ].compactMap { $0 }
        guard given.count == 1, let source = given.first else {
            throw ValidationError("give exactly one of --device, --image, --root, --volume-id")
        }
        return source
    }
}

struct Inject: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add a public key to the login user's authorized_keys.")
    @OptionGroup var source: SourceOptions
    @Option(name: .customLong("public-key"), help: "File holding the OpenSSH public key line.") var publicKeyFile:
        String?
    @Option(
        name: .customLong("public-key-text"),
        help: "The OpenSSH public key line itself (a value starting with - needs the --public-key-text=… form).")
    var publicKeyText: String?
    @Option(help: "The login user (default: worked out from the disk's own files).") var user: String?
    @Flag(help: "Keep only the new key in authorized_keys.") var replace = false
    @Flag(name: .customLong("dry-run"), help: "Mount read-only, change nothing, say what would be done.") var dryRun =
        false
    @Flag(help: "Print the report as one JSON document on stdout.") var json = false

    func run() throws {
        let target = try source.source()
        let report: RescueReport
        do {
            let key = try AgentIO.loadKey(file: publicKeyFile, text: publicKeyText)
            let request = InjectRequest(keys: [key], user: user, replace: replace, dryRun: dryRun)
            report = AgentIO.withTarget(target, readOnly: dryRun) { Injector.inject(request, into: $0) }
        } catch let failure as RescueReport.Failure {
            report = .failure(runID: nil, agentVersion: Injector.agentVersion, failure)
        }
        try AgentIO.finish(report, json: json)
    }
}

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read-only: find the root, the distro and the user; change nothing.")
    @OptionGroup var source: SourceOptions
    @Option(help: "The login user to check.") var user: String?
    @Flag(help: "Print the report as one JSON document on stdout.") var json = false

    func run() throws {
        let report = AgentIO.withTarget(try source.source(), readOnly: true) { Injector.probe($0, user: user) }
        try AgentIO.finish(report, json: json)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rescue-host mode: do what a job file says, write the report, print it as a console line.")
    @Option(help: "The job (JSON, RescueModel's RescueJob).") var job: String
    @Option(help: "Where to write the report JSON (the bootstrap script uploads it).") var report: String?

    func run() throws {
        let result = AgentIO.runJob(path: job)
        var written: ReportNotWritten?
        if let report {
            do { try AgentIO.writeReport(result, to: report) } catch let error as ReportNotWritten { written = error }
        }
        if let line = try? ReportConsoleLine.render(result) { print(line) }
        AgentIO.printSummary(result)
        if let written {
            FileStream.stderr("keyrescue-agent: \(written)\n")
            throw ExitCode(ExitCodes.reportNotWritten)
        }
        if !result.ok { throw ExitCode(ExitCodes.code(for: result.error?.code)) }
    }
}
