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
    static let cloudCfg = "/etc/cloud/cloud.cfg"
    static let dropInDirectory = "/etc/cloud/cloud.cfg.d"

    /// Reads `cloud.cfg` and `cloud.cfg.d/*.cfg` within ReadLimits. A file cloud-init would read that
    /// the agent cannot (a FIFO, too large, nested too deep) is an error naming it: skipping it
    /// could pick another user than the one cloud-init gave the key to.
    public static func read(_ files: some TargetFiles) throws(TargetFileError) -> CloudInitUsers {
        var total = 0
        func text(_ path: String) throws(TargetFileError) -> String? {
            let remaining = ReadLimits.cloudInitTotal - total
            let limit = min(ReadLimits.cloudInitFile, remaining)
            let content: TargetFileContent?
            do { content = try files.read(path, limit: limit) } catch let error
                where error.kind == .tooLarge && limit < ReadLimits.cloudInitFile
            {
                throw TargetFileError(
                    path, .tooLarge,
                    "takes the cloud-init files past \(ReadLimits.size(ReadLimits.cloudInitTotal)), the most the agent reads of them"
                )
            }
            total += content?.bytes.count ?? 0
            return content?.text
        }
        let main = try text(cloudCfg)
        let paths = try files.glob(dropInDirectory + "/*.cfg")
        guard paths.count <= ReadLimits.cloudInitFiles else {
            throw TargetFileError(
                dropInDirectory, .tooLarge,
                "holds \(paths.count) .cfg files, more than the \(ReadLimits.cloudInitFiles) the agent reads")
        }
        var dropIns: [(name: String, text: String)] = []
        for path in paths {
            if let body = try text(path) { dropIns.append((name: TargetPath.split(path).name, text: body)) }
        }
        return try users(cloudCfg: main, dropIns: dropIns)
    }

    /// `files` are (name, text) pairs: `cloud.cfg` first, then `cloud.cfg.d/*.cfg`; they are merged
    /// in cloud-init's order (cloud.cfg, then the .d files sorted by name), later values winning.
    public static func users(cloudCfg: String?, dropIns: [(name: String, text: String)]) throws(TargetFileError)
        -> CloudInitUsers
    {
        let ordered =
            (cloudCfg.map { [(path: Self.cloudCfg, text: $0)] } ?? [])
            + dropIns.filter { $0.name.hasSuffix(".cfg") }.sorted { $0.name < $1.name }
            .map { (path: "\(dropInDirectory)/\($0.name)", text: $0.text) }
        var result = CloudInitUsers(defaultUserName: nil, users: nil, usersIncludesDefault: false)
        for file in ordered {
            let root: YAMLNode
            do { root = try MiniYAML.parse(file.text) } catch {
                throw TargetFileError(file.path, .tooLarge, error.description)
            }
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
