import RescueModel

/// Everything the agent decides from the target's own files before it writes: who logs in, where
/// their keys go, which label they need, and what would still refuse the login. Pure over TargetFiles.
/// A file that decides one of these and that the agent cannot read is a refusal naming the file and
/// why, never a silent default (docs/AGENT.md, "Limits and refusals").
public struct TargetInspection: Sendable {
    public var distro: RescueReport.Distro?
    public var user: PasswdEntry
    public var userReason: ChosenUser.Reason
    /// The AuthorizedKeysFile the key is written to (the first one sshd reads that the agent can expand).
    public var keysFile: String
    public var selinuxLabel: String?
    public var hostKeys: [RescueReport.HostKey]
    public var warnings: [RescueReport.Warning]
    /// What the writer needs to judge ownership and sshd's StrictModes: the config's value, account
    /// names by uid, and the user's groups (primary and those of /etc/group that list them).
    public var strictModes = true
    public var accountNames: [UInt32: String] = [:]
    public var userGroups: Set<UInt32> = []
    /// On Debian and Ubuntu, whose sshd accepts a group-writable path in a group of the user alone:
    /// those groups.
    public var privateGroups: Set<UInt32> = []

    static let fixByHand =
        "look at the disk by hand (mount it read-only), make it a regular file of sane size, and run the agent again"

    public static func inspect(
        _ files: some TargetFiles, userOverride: String?, keys: [PublicKey]
    ) throws(RescueReport.Failure) -> TargetInspection {
        var passwdReader = PasswdReader()
        guard
            try needed(
                "the login user and their home come from it", fixByHand,
                { () throws(TargetFileError) in
                    try files.lines("/etc/passwd", limit: ReadLimits.accountFile) { passwdReader.add($0) }
                })
        else {
            throw RescueReport.Failure(
                .noLinuxRoot, "the filesystem has no /etc/passwd: it is not a Linux root",
                hint: "check that the right volume or partition was given (keyrescue-agent probe lists what it found)")
        }
        let osRelease = try needed("the distro decides the default login user", fixByHand) {
            () throws(TargetFileError) -> String? in
            if let text = try files.text("/etc/os-release", limit: ReadLimits.smallFile) { return text }
            return try files.text("/usr/lib/os-release", limit: ReadLimits.smallFile)
        }
        let distro = osRelease.map { OSRelease.distro(OSRelease.parse($0)) }
        let passwd = passwdReader.entries
        // cloud-init only decides the user: with --user its files are not needed.
        let cloudInit =
            userOverride != nil
            ? CloudInitUsers()
            : try needed(
                "cloud-init's files decide which user got the instance's key",
                "pass the login user with --user NAME (cloud-init's files are then not read)"
            ) { () throws(TargetFileError) in try CloudInitConfig.read(files) }
        let chosen = try LoginUserChoice.choose(
            override: userOverride, cloudInit: cloudInit, distroID: distro?.id, passwd: passwd)
        let user = chosen.entry
        guard user.home.hasPrefix("/"), !user.home.split(separator: "/").contains("..") else {
            throw RescueReport.Failure(
                .unsafePath, "the home directory of \(user.name) in the target's passwd is \(user.home)",
                hint: "fix the passwd entry on the disk by hand, or pass another user with --user")
        }
        // Only the user's own groups are kept: a group file may be as large as passwd.
        var groupReader = GroupReader { $0.gid == user.gid || $0.members.contains(user.name) }
        try needed("sshd's AllowGroups and DenyGroups are checked against it", fixByHand) {
            () throws(TargetFileError) in
            try files.lines("/etc/group", limit: ReadLimits.accountFile) { groupReader.add($0) }
        }
        let groups = groupReader.entries
        let sshd = try needed(
            "sshd reads it for AuthorizedKeysFile, so a key written without it may land where sshd does not look",
            "sshd reads this file too: " + fixByHand
        ) { () throws(TargetFileError) in try SSHDConfig.read(files) }
        guard
            let keysFile = sshd.authorizedKeysFiles.lazy.compactMap({
                SSHDConfig.expand($0, user: user.name, home: user.home)
            }).first
        else {
            throw RescueReport.Failure(
                .unsupported,
                "the target's sshd_config sets AuthorizedKeysFile to none or to tokens the agent cannot expand",
                hint: "keys are looked up some other way (AuthorizedKeysCommand?); fix sshd_config on the disk by hand")
        }
        let selinux = try needed("SELinux's mode decides the label sshd needs on the key", fixByHand) {
            () throws(TargetFileError) in
            try SELinuxConfig.read(files)
        }
        let label = selinux.sshHomeLabelAndSource(files, home: user.home)
        var warnings = chosen.notes.map { RescueReport.Warning(.userNotInCloudInit, $0) }
        warnings += try LoginWarnings.of(sshd, user: user, groups: groups, keys: keys)
        if let version = OpenSSHVersion.read(files) {
            warnings += keys.compactMap { key in version.refusal(of: key.type).map { .init(.keyTypeNotAccepted, $0) } }
        }
        if sshd.authorizedKeysFiles.first.flatMap({ SSHDConfig.expand($0, user: user.name, home: user.home) }) == nil {
            warnings.append(
                .init(
                    .authorizedKeysFileUnusual,
                    "the first AuthorizedKeysFile uses tokens the agent cannot expand; the key went to \(keysFile)"))
        }
        if let chosen = label.label, !label.fromPolicy {
            let why = label.problem.map { ": \($0)" } ?? " how to label ~/.ssh"
            warnings.append(
                .init(.selinuxLabelDefaulted, "the target's SELinux policy files do not say\(why); used \(chosen)"))
        }
        var found = TargetInspection(
            distro: distro, user: user, userReason: chosen.reason, keysFile: keysFile,
            selinuxLabel: label.label, hostKeys: HostKeys.read(files), warnings: warnings)
        found.strictModes = sshd.strictModes
        found.accountNames = Dictionary(passwd.map { ($0.uid, $0.name) }, uniquingKeysWith: { first, _ in first })
        let release = osRelease.map(OSRelease.parse) ?? [:]
        let family = "\(release["ID"] ?? "") \(release["ID_LIKE"] ?? "")".lowercased().split(separator: " ")
        if family.contains("debian") || family.contains("ubuntu") {
            found.privateGroups = LoginPathCheck.privateGroups(of: user, passwd: passwd, groups: groups)
        }
        let listed = groups.filter { $0.gid == user.gid || $0.members.contains(user.name) }
        found.userGroups = Set(listed.map(\.gid) + [user.gid])
        return found
    }

    /// Runs a read the rescue cannot do without; a file it cannot use becomes the refusal.
    @discardableResult
    private static func needed<T>(
        _ why: String, _ hint: String, _ body: () throws(TargetFileError) -> T
    ) throws(RescueReport.Failure) -> T {
        do { return try body() } catch { throw error.refusal(why, hint: hint) }
    }
}
