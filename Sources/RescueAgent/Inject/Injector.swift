#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import RescueModel

/// What the user asked for, from the CLI or the rescue job.
public struct InjectRequest: Sendable {
    public var keys: [PublicKey]
    public var user: String?
    public var replace: Bool
    public var dryRun: Bool
    public var runID: String
    public var backup: Bool

    public init(
        keys: [PublicKey], user: String? = nil, replace: Bool = false, dryRun: Bool = false, runID: String = "manual",
        backup: Bool = true
    ) {
        self.keys = keys
        self.user = user
        self.replace = replace
        self.dryRun = dryRun
        self.runID = runID
        self.backup = backup
    }
}

/// Inspects an opened target and writes the key, producing the report that tells the truth:
/// `ok` only once the key was read back from disk with the right owner and mode.
public enum Injector {
    public static let agentVersion = KeyrescueVersion.current

    public static func inject(_ request: InjectRequest, into target: some OpenedTarget) -> RescueReport {
        var report = RescueReport(runID: request.runID, ok: false, agentVersion: agentVersion)
        fill(&report, target.facts)
        report.dryRun = request.dryRun
        do {
            let root = try SafeRoot(path: target.rootPath)
            let found = try TargetInspection.inspect(root, userOverride: request.user, keys: request.keys)
            report.distro = found.distro
            report.user = found.user.name
            report.uid = found.user.uid
            report.gid = found.user.gid
            report.home = found.user.home
            report.authorizedKeysPath = found.keysFile
            report.selinuxLabel = found.selinuxLabel
            report.hostKeys = found.hostKeys
            report.warnings = found.warnings
            report.keyFingerprint = request.keys.first?.fingerprint
            try mountHomeIfSeparate(found.user.home, root, target, &report)
            var write = KeyWriteRequest(
                home: found.user.home, uid: found.user.uid, gid: found.user.gid, keysFile: found.keysFile,
                keys: request.keys, runID: request.runID, replace: request.replace, dryRun: request.dryRun,
                backup: request.backup, selinuxLabel: found.selinuxLabel, userName: found.user.name,
                groups: found.userGroups, accountNames: found.accountNames, strictModes: found.strictModes)
            write.privateGroups = found.privateGroups
            let written = try KeyWriter.write(write, in: root)
            report.backupPath = written.backupPath
            report.warnings += written.keysBehindOptions.map { line in
                .init(
                    .keyBehindOptions,
                    "\(found.keysFile) already held the key behind options (\(Self.optionsOf(line))), which sshd would apply; "
                        + "the key was added plainly before that line")
            }
            report.alreadyPresent = written.alreadyPresent
            report.ok = true
        } catch {
            report.error = error
        }
        return report
    }

    /// Only inspects (probe): the same findings, no write.
    public static func probe(_ target: some OpenedTarget, user: String?) -> RescueReport {
        var report = inject(InjectRequest(keys: [], user: user, dryRun: true, runID: "probe"), into: target)
        report.keyFingerprint = nil
        return report
    }

    /// The options part of an authorized_keys line, shortened for a warning.
    static func optionsOf(_ line: String) -> String {
        let options = AuthorizedKeysLine.parse(Array(line.utf8))?.options ?? line
        return options.count > 80 ? String(options.prefix(77)) + "..." : options
    }

    static func fill(_ report: inout RescueReport, _ facts: DiskFacts) {
        report.device = facts.device
        report.partition = facts.partition
        report.filesystem = facts.filesystem
    }
}

/// An already mounted root (`--root DIR`): nothing to mount, nothing to undo.
public final class DirectoryTarget: OpenedTarget {
    public let rootPath: String
    public var facts: DiskFacts { DiskFacts() }

    public init(rootPath: String) { self.rootPath = rootPath }

    /// Nothing is mounted here; a filesystem someone already mounted at the entry's place counts.
    public func mountSecondary(_ entry: FstabEntry) throws -> SecondaryMount {
        let place = rootPath + entry.mountPoint
        if MountTable.isMountPoint(place) { return .mounted(at: place) }
        return .onAnotherVolume(
            "with --root the agent mounts nothing; mount \(entry.spec) at \(rootPath)\(entry.mountPoint) first")
    }

    public func close() throws {}
}
