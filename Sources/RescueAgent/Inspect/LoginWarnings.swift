import RescueModel

/// What in the target's own configuration would still refuse the key login, judged as sshd judges
/// it (auth.c's allowed_user, groupaccess.c, auth2-pubkey.c), with OpenSSH's own pattern matching.
enum LoginWarnings {
    /// sshd looks at no more groups of a user than getgrouplist gives it (NGROUPS_MAX).
    static let maxGroups = 65536
    /// Wildcard group patterns are matched against every group of the user: their total length
    /// times the number of groups is capped, so a hostile config cannot keep the agent busy.
    static let groupMatchBudget = 1 << 26

    static func of(
        _ sshd: SSHDConfig, user: PasswdEntry, groups: [GroupEntry], keys: [PublicKey]
    ) throws(RescueReport.Failure) -> [RescueReport.Warning] {
        var warnings: [RescueReport.Warning] = []
        if !sshd.pubkeyAuthentication {
            warnings.append(
                .init(
                    .pubkeyAuthenticationDisabled,
                    "the target's sshd_config says PubkeyAuthentication no: key logins are refused"))
        }
        let memberOf = groups.lazy.filter { $0.gid == user.gid || $0.members.contains(user.name) }.prefix(maxGroups)
            .map(\.name)
        let userGroups = Array(memberOf)
        let budget =
            (sshd.allowGroups + sshd.denyGroups).filter { WildcardPattern(openSSH: $0).hasWildcard }
            .reduce(0) { $0 + $1.utf8.count + 1 } * userGroups.count
        guard budget <= groupMatchBudget else {
            throw RescueReport.Failure(
                .unsupported,
                "the target's sshd_config AllowGroups/DenyGroups wildcards, against the \(userGroups.count) groups of \(user.name), are more than the agent checks",
                hint: "fix AllowGroups/DenyGroups in sshd_config on the disk by hand")
        }
        // match_user: the part before the first `@` is matched with match_pattern (the host part
        // depends on where the login comes from, which the agent cannot know).
        let userMatches = { (patterns: [String]) in
            patterns.contains {
                SSHPattern.matches($0.split(separator: "@", omittingEmptySubsequences: false).first ?? "", user.name)
            }
        }
        let groupMatches = { (patterns: [String]) in groupsMatch(patterns, userGroups) }
        if userMatches(sshd.denyUsers) || groupMatches(sshd.denyGroups)
            || (!sshd.allowUsers.isEmpty && !userMatches(sshd.allowUsers))
            || (!sshd.allowGroups.isEmpty && !groupMatches(sshd.allowGroups))
        {
            warnings.append(
                .init(
                    .userNotAllowed,
                    "the target's sshd_config AllowUsers/DenyUsers/AllowGroups/DenyGroups refuse \(user.name)"))
        }
        for condition in sshd.matchBlocks {
            warnings.append(
                .init(
                    .matchBlockMayApply,
                    "the target's sshd_config has `Match \(condition)` changing key logins; check it applies as you expect"
                ))
        }
        if !LoginUserChoice.isLoginShell(user.shell) {
            warnings.append(
                .init(.loginShellRefuses, "\(user.name)'s shell is \(user.shell): the login will be refused"))
        }
        if let accepted = sshd.acceptedAlgorithms {
            for key in keys where !accepts(accepted, key.type) {
                warnings.append(
                    .init(
                        .keyTypeNotAccepted,
                        "the target's sshd_config PubkeyAcceptedAlgorithms does not list \(key.type.rawValue)"))
            }
        }
        if user.uid == 0 {
            warnings.append(
                .init(
                    .rootLoginRefused, "the key was written for root; many images refuse root logins (PermitRootLogin)")
            )
        }
        return warnings
    }

    /// groupaccess.c's ga_match: one of the user's groups matches one pattern. Literal patterns are
    /// looked up, wildcards matched (within the budget checked above).
    static func groupsMatch(_ patterns: [String], _ groups: [String]) -> Bool {
        let names = Set(groups)
        for pattern in patterns {
            let compiled = WildcardPattern(openSSH: pattern)
            if !compiled.hasWildcard {
                if names.contains(pattern) { return true }
            } else if groups.contains(where: { compiled.matches($0) }) {
                return true
            }
        }
        return false
    }

    /// PubkeyAcceptedAlgorithms as sshd assembles it: `+`/`^` add to the default list (which holds
    /// every key type the agent writes), `-` removes what the pattern list matches, anything else
    /// replaces the default and must match one of the key's signature algorithms.
    static func accepts(_ setting: String, _ type: PublicKey.KeyType) -> Bool {
        let algorithms = type == .rsa ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type.rawValue]
        if setting.hasPrefix("+") || setting.hasPrefix("^") { return true }
        if setting.hasPrefix("-") {
            let removed = setting.dropFirst()
            return algorithms.contains { SSHPattern.matchList(removed, $0) != .positive }
        }
        return algorithms.contains { SSHPattern.matchList(setting, $0) == .positive }
    }
}
