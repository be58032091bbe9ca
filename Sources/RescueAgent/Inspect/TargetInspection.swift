import RescueModel

/// Everything the agent decides from the target's own files before it writes: who logs in, where
/// their keys go, which label they need, and what would still refuse the login. Pure over TargetFiles.
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

    public static func inspect(
        _ files: some TargetFiles, userOverride: String?, keys: [PublicKey]
    ) throws(RescueReport.Failure) -> TargetInspection {
        guard let passwdText = files.text("/etc/passwd") else {
            throw RescueReport.Failure(
                .noLinuxRoot, "the filesystem has no /etc/passwd: it is not a Linux root",
                hint: "check that the right volume or partition was given (keyrescue-agent probe lists what it found)")
        }
        let osRelease = files.text("/etc/os-release") ?? files.text("/usr/lib/os-release")
        let distro = osRelease.map { OSRelease.distro(OSRelease.parse($0)) }
        let passwd = AccountFiles.parsePasswd(passwdText).entries
        let groups = AccountFiles.parseGroup(files.text("/etc/group") ?? "").entries
        let dropIns = files.glob("/etc/cloud/cloud.cfg.d/*.cfg").compactMap { path in
            files.text(path).map { (name: TargetPath.split(path).name, text: $0) }
        }
        let cloudInit = CloudInitConfig.users(cloudCfg: files.text("/etc/cloud/cloud.cfg"), dropIns: dropIns)
        let chosen = try LoginUserChoice.choose(
            override: userOverride, cloudInit: cloudInit, distroID: distro?.id, passwd: passwd)
        let user = chosen.entry
        guard user.home.hasPrefix("/"), !user.home.split(separator: "/").contains("..") else {
            throw RescueReport.Failure(
                .unsafePath, "the home directory of \(user.name) in the target's passwd is \(user.home)",
                hint: "fix the passwd entry on the disk by hand, or pass another user with --user")
        }
        let sshd = SSHDConfig.read(files)
        guard let keysFile = sshd.authorizedKeysFiles.lazy.compactMap({
            SSHDConfig.expand($0, user: user.name, home: user.home)
        }).first else {
            throw RescueReport.Failure(
                .unsupported, "the target's sshd_config sets AuthorizedKeysFile to none or to tokens the agent cannot expand",
                hint: "keys are looked up some other way (AuthorizedKeysCommand?); fix sshd_config on the disk by hand")
        }
        let selinux = SELinuxConfig.read(files)
        let label = selinux.sshHomeLabelAndSource(files, home: user.home)
        var warnings = chosen.notes.map { RescueReport.Warning(.userNotInCloudInit, $0) }
        warnings += LoginWarnings.of(sshd, user: user, groups: groups, keys: keys)
        if let version = OpenSSHVersion.read(files) {
            warnings += keys.compactMap { key in version.refusal(of: key.type).map { .init(.keyTypeNotAccepted, $0) } }
        }
        if sshd.authorizedKeysFiles.first.flatMap({ SSHDConfig.expand($0, user: user.name, home: user.home) }) == nil {
            warnings.append(.init(.authorizedKeysFileUnusual, "the first AuthorizedKeysFile uses tokens the agent cannot expand; the key went to \(keysFile)"))
        }
        if let chosen = label.label, !label.fromPolicy {
            warnings.append(.init(.selinuxLabelDefaulted, "the target's SELinux policy files do not say how to label ~/.ssh; used \(chosen)"))
        }
        warnings += sshd.unreadable.map { .init(.sshdConfigUnreadable, "\($0) on the target could not be read") }
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
}

/// What in the target's own configuration would still refuse the key login (sshd's rules).
enum LoginWarnings {
    static func of(_ sshd: SSHDConfig, user: PasswdEntry, groups: [GroupEntry], keys: [PublicKey]) -> [RescueReport.Warning] {
        var warnings: [RescueReport.Warning] = []
        if !sshd.pubkeyAuthentication {
            warnings.append(.init(.pubkeyAuthenticationDisabled, "the target's sshd_config says PubkeyAuthentication no: key logins are refused"))
        }
        let memberOf = Set(groups.filter { $0.gid == user.gid || $0.members.contains(user.name) }.map(\.name))
        let userMatches = { (patterns: [String]) in
            patterns.contains { Glob.matches($0.split(separator: "@").first ?? "", user.name) }
        }
        let groupMatches = { (patterns: [String]) in patterns.contains { p in memberOf.contains { Glob.matches(p, $0) } } }
        if userMatches(sshd.denyUsers) || groupMatches(sshd.denyGroups)
            || (!sshd.allowUsers.isEmpty && !userMatches(sshd.allowUsers))
            || (!sshd.allowGroups.isEmpty && !groupMatches(sshd.allowGroups)) {
            warnings.append(.init(.userNotAllowed, "the target's sshd_config AllowUsers/DenyUsers/AllowGroups/DenyGroups refuse \(user.name)"))
        }
        for condition in sshd.matchBlocks {
            warnings.append(.init(.matchBlockMayApply, "the target's sshd_config has `Match \(condition)` changing key logins; check it applies as you expect"))
        }
        if !LoginUserChoice.isLoginShell(user.shell) {
            warnings.append(.init(.loginShellRefuses, "\(user.name)'s shell is \(user.shell): the login will be refused"))
        }
        if let accepted = sshd.acceptedAlgorithms, !accepted.hasPrefix("+") {
            let names = accepted.split(separator: ",").map(String.init)
            for key in keys where !names.contains(where: { Glob.matches($0.trimmingPrefix("-"), key.type.rawValue) }) {
                warnings.append(.init(.keyTypeNotAccepted, "the target's sshd_config PubkeyAcceptedAlgorithms does not list \(key.type.rawValue)"))
            }
        }
        if user.uid == 0 {
            warnings.append(.init(.rootLoginRefused, "the key was written for root; many images refuse root logins (PermitRootLogin)"))
        }
        return warnings
    }
}

extension String {
    fileprivate func trimmingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
