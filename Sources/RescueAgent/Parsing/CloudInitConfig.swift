/// What cloud-init says about the default user, from `cloud.cfg` and `cloud.cfg.d/*.cfg`.
public struct CloudInitUsers: Equatable, Sendable {
    /// `system_info: default_user: name:` (or the legacy top-level `user:`), last file wins.
    public var defaultUserName: String?
    /// `users:` as last set; nil when no file sets it (cloud-init then creates the default user).
    public var users: [String]?
    /// `users:` names the special entry `default`.
    public var usersIncludesDefault: Bool

    public init(defaultUserName: String? = nil, users: [String]? = nil, usersIncludesDefault: Bool = false) {
        (self.defaultUserName, self.users, self.usersIncludesDefault) = (defaultUserName, users, usersIncludesDefault)
    }

    /// The user cloud-init put the instance's key on: the default user when it is created, else the
    /// first user listed (nil when none is known).
    public var keyUser: String? {
        if usersIncludesDefault || users == nil { return defaultUserName }
        return users?.first
    }
}

public enum CloudInitConfig {
    /// `files` are (name, text) pairs: `cloud.cfg` first, then `cloud.cfg.d/*.cfg`; they are merged
    /// in cloud-init's order (cloud.cfg, then the .d files sorted by name), later values winning.
    public static func users(cloudCfg: String?, dropIns: [(name: String, text: String)]) -> CloudInitUsers {
        let ordered = (cloudCfg.map { [$0] } ?? []) + dropIns.filter { $0.name.hasSuffix(".cfg") }
            .sorted { $0.name < $1.name }.map(\.text)
        var result = CloudInitUsers(defaultUserName: nil, users: nil, usersIncludesDefault: false)
        for text in ordered {
            let root = MiniYAML.parse(text)
            if let name = root["system_info"]?["default_user"]?["name"]?.string, !name.isEmpty {
                result.defaultUserName = name
            }
            // Legacy: `user: name` or `user: {name: …}` replaces the default user's name.
            if let user = root["user"] {
                if let name = user.string ?? user["name"]?.string, !name.isEmpty { result.defaultUserName = name }
            }
            if let users = root["users"] {
                let entries = userEntries(users)
                result.users = entries.filter { $0 != "default" }
                result.usersIncludesDefault = entries.contains("default")
            }
        }
        return result
    }

    /// `users:` as a list of names and mappings with `name:`, or a comma-separated string.
    private static func userEntries(_ node: YAMLNode) -> [String] {
        if let text = node.string {
            return text.split(separator: ",").map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        }
        return (node.items ?? []).compactMap { $0.string ?? $0["name"]?.string }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
