/// Which files may serve as a keys file at all, decided from their real path and what they hold.
/// A hostile or mistaken `AuthorizedKeysFile /etc/shadow` must not make the agent append a key to
/// the password database (and keep a copy of it beside).
enum KeysFilePolicy {
    /// The account and privilege databases, refused wherever the rules below would allow them.
    static let systemDatabases: Set<String> = [
        "/etc/shadow", "/etc/gshadow", "/etc/passwd", "/etc/group", "/etc/sudoers",
        "/etc/shadow-", "/etc/gshadow-", "/etc/passwd-", "/etc/group-",
    ]

    /// sshd's own files under /etc/ssh: never a keys file even where a name says "keys".
    private static let sshdOwnPrefixes = [
        "ssh_host_", "sshd_config", "ssh_config", "moduli", "ssh_known_hosts", "ssh_revoked",
    ]

    /// Why the file at `path` (a real path on the target) must not be written as a keys file; nil if it may.
    /// Under /etc only an authorized-keys file is accepted: a component below /etc that says
    /// `authorized` (`/etc/ssh/authorized_keys/%u`, `/etc/authorized-keys`) or a directory named
    /// `keys` (`/etc/ssh/keys/%u`), and none of sshd's own files.
    static func systemFileRefusal(_ path: String) -> String? {
        if systemDatabases.contains(path) || path.hasPrefix("/etc/sudoers.d/") {
            return "it is the system database \(path)"
        }
        guard path.hasPrefix("/etc/") else { return nil }
        let below = path.dropFirst("/etc/".count).split(separator: "/").map { $0.lowercased() }
        let sshdOwn = below.contains { name in sshdOwnPrefixes.contains { name.hasPrefix($0) } }
        let saysKeys = below.contains { $0.contains("authorized") } || below.dropLast().contains("keys")
        guard saysKeys && !sshdOwn else {
            return "it is a system file under /etc, not an authorized-keys file"
        }
        return nil
    }

    /// Why existing content cannot be an authorized_keys file (a binary, a set-id program); nil if it can.
    static func contentRefusal(_ bytes: [UInt8], mode: UInt32) -> String? {
        if mode & 0o6000 != 0 { return "it is a set-user-ID or set-group-ID file (mode \(LoginPathCheck.octal(mode)))" }
        if bytes.contains(0) { return "it holds binary data (NUL bytes), not authorized_keys lines" }
        return nil
    }
}
