/// The parts of the target's sshd_config that decide whether a key login can work. sshd takes the
/// first value it meets for a keyword, `Include` splices files in place (globs, relative to
/// /etc/ssh), and a `Match` block applies only to the connections it matches.
public struct SSHDConfig: Equatable, Sendable {
    /// `AuthorizedKeysFile` patterns, unexpanded (`%h/.ssh/authorized_keys`).
    public var authorizedKeysFiles: [String] = [".ssh/authorized_keys", ".ssh/authorized_keys2"]
    public var pubkeyAuthentication = true
    /// `StrictModes`: sshd checks the owners and modes of the keys file's path (global only).
    public var strictModes = true
    public var allowUsers: [String] = []
    public var denyUsers: [String] = []
    public var allowGroups: [String] = []
    public var denyGroups: [String] = []
    /// `PubkeyAcceptedAlgorithms` / `PubkeyAcceptedKeyTypes` as written, when set.
    public var acceptedAlgorithms: String?
    /// Conditions of the Match blocks that set something affecting key logins.
    public var matchBlocks: [String] = []
    public var unreadable: [String] = []

    public init() {}

    public static func read(_ files: some TargetFiles) -> SSHDConfig {
        var config = SSHDConfig()
        var seen = Set<String>()
        var depth = 0
        config.apply(path: "/etc/ssh/sshd_config", files, &seen, &depth, inMatch: false)
        return config
    }

    private mutating func apply(path: String, _ files: some TargetFiles, _ seen: inout Set<String>, _ depth: inout Int, inMatch: Bool) {
        guard depth < 16 else { return }
        let text: String
        do {
            guard let bytes = try files.readFile(path) else { return }
            text = String(decoding: bytes, as: UTF8.self)
        } catch {
            unreadable.append(path)
            return
        }
        depth += 1
        defer { depth -= 1 }
        var match: String? = inMatch ? "" : nil
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let words = Self.words(rawLine)
            guard let keyword = words.first?.lowercased() else { continue }
            let args = Array(words.dropFirst())
            switch keyword {
            case "match":
                let condition = args.joined(separator: " ")
                match = condition.lowercased() == "all" ? nil : condition
            case "include":
                for pattern in args {
                    let absolute = pattern.hasPrefix("/") ? pattern : "/etc/ssh/" + pattern
                    for file in files.glob(absolute) where !seen.contains(file) {
                        seen.insert(file)
                        apply(path: file, files, &seen, &depth, inMatch: match != nil)
                    }
                }
            default:
                set(keyword, args, match: match)
            }
        }
    }

    private var assigned = Set<String>()

    private mutating func set(_ keyword: String, _ args: [String], match: String?) {
        let relevant: Set = [
            "authorizedkeysfile", "pubkeyauthentication", "allowusers", "denyusers", "allowgroups", "denygroups",
            "pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes", "strictmodes",
        ]
        guard relevant.contains(keyword), !args.isEmpty else { return }
        if let match {
            if !matchBlocks.contains(match) { matchBlocks.append(match) }
            return
        }
        // Allow/Deny lists accumulate over lines; every other keyword keeps its first value.
        switch keyword {
        case "allowusers": allowUsers += args
        case "denyusers": denyUsers += args
        case "allowgroups": allowGroups += args
        case "denygroups": denyGroups += args
        default:
            guard !assigned.contains(keyword) else { return }
            assigned.insert(keyword)
            switch keyword {
            case "authorizedkeysfile": authorizedKeysFiles = args.lowercased() == ["none"] ? [] : args
            case "pubkeyauthentication": pubkeyAuthentication = args[0].lowercased() != "no"
            case "strictmodes": strictModes = args[0].lowercased() != "no"
            default: acceptedAlgorithms = args[0]
            }
        }
    }

    /// Splits a config line into words: `#` starts a comment, double quotes group, `=` may separate.
    static func words(_ line: Substring) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var started = false
        for c in line {
            if c == "\"" { quoted.toggle(); started = true; continue }
            if !quoted && c == "#" && current.isEmpty && !started { break }
            if !quoted && (c == " " || c == "\t" || (c == "=" && words.isEmpty)) {
                if started { words.append(current); current = ""; started = false }
                continue
            }
            current.append(c)
            started = true
        }
        if started { words.append(current) }
        return words
    }

    /// Expands one AuthorizedKeysFile pattern for a user: `%h` home, `%u` user, `%%` a percent sign;
    /// a relative path is relative to the home. Nil for tokens the agent cannot know (e.g. `%U`).
    public static func expand(_ pattern: String, user: String, home: String) -> String? {
        var out = ""
        var chars = pattern.makeIterator()
        while let c = chars.next() {
            guard c == "%" else { out.append(c); continue }
            switch chars.next() {
            case "h": out += home
            case "u": out += user
            case "%": out += "%"
            default: return nil
            }
        }
        if !out.hasPrefix("/") { out = (home.hasSuffix("/") ? home : home + "/") + out }
        return out
    }
}

extension Array where Element == String {
    fileprivate func lowercased() -> [String] { map { $0.lowercased() } }
}
