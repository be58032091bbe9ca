/// The target's SELinux mode and the label its policy gives to `~/.ssh` and authorized_keys.
public struct SELinuxConfig: Equatable, Sendable {
    /// enforcing, permissive or disabled (as /etc/selinux/config says); nil without the file.
    public var mode: String?
    public var policy: String?

    /// Labels are written when the target runs SELinux at all: a permissive target that is
    /// switched to enforcing later must not lock the user out.
    public var labels: Bool { mode == "enforcing" || mode == "permissive" }

    public static func read(_ files: some TargetFiles) throws(TargetFileError) -> SELinuxConfig {
        guard let text = try files.text("/etc/selinux/config", limit: ReadLimits.smallFile) else {
            return SELinuxConfig()
        }
        var config = SELinuxConfig()
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \t\"") }
            guard parts.count == 2 else { continue }
            if parts[0] == "SELINUX" { config.mode = parts[1].lowercased() }
            if parts[0] == "SELINUXTYPE" { config.policy = parts[1] }
        }
        return config
    }

    /// `ssh_home_t` with the user and range the policy's home-directory contexts use for `.ssh`
    /// (`file_contexts.homedirs`), else the targeted policy's default.
    public func sshHomeLabel(_ files: some TargetFiles, home: String) -> String? {
        sshHomeLabelAndSource(files, home: home).label
    }

    /// The label, whether it came from the target's policy (false: the default was used), and why
    /// the policy's file could not be used when it exists but is unreadable (a warning says so).
    public func sshHomeLabelAndSource(_ files: some TargetFiles, home: String) -> (
        label: String?, fromPolicy: Bool, problem: String?
    ) {
        guard labels else { return (nil, false, nil) }
        let fallback = home == "/root" ? "system_u:object_r:ssh_home_t:s0" : "unconfined_u:object_r:ssh_home_t:s0"
        guard let policy, policy.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            return (fallback, false, nil)
        }
        let text: String
        do {
            guard
                let found = try files.text(
                    "/etc/selinux/\(policy)/contexts/files/file_contexts.homedirs", limit: ReadLimits.policyFile)
            else {
                return (fallback, false, nil)
            }
            text = found
        } catch {
            return (fallback, false, error.description)
        }
        for line in text.split(whereSeparator: \.isNewline) where line.contains("/\\.ssh(/.*)?") {
            if let context = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last,
                context.contains(":ssh_home_t:")
            {
                return (String(context), true, nil)
            }
        }
        return (fallback, false, nil)
    }
}
