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

    public init() {}

    /// Reads `/etc/ssh/sshd_config` and every file it includes, each once (by inode), bounded by
    /// ReadLimits. A file sshd would read that the agent cannot is an error naming it and why:
    /// guessing its content would put the key where sshd does not look.
    public static func read(_ files: some TargetFiles) throws(TargetFileError) -> SSHDConfig {
        let reader = IncludeReader()
        var config = SSHDConfig()
        try config.apply(path: "/etc/ssh/sshd_config", files, reader, depth: 0, within: nil)
        return config
    }

    /// What the whole read has used so far, for the caps and the de-duplication.
    final class IncludeReader {
        var seen = Set<FileIdentity>()
        var seenInMatch = Set<FileIdentity>()
        var bytes = 0
        /// Paths considered (duplicates included) and files read.
        var paths = 0
        var files = 0
    }

    private mutating func apply(
        path: String, _ files: some TargetFiles, _ reader: IncludeReader, depth: Int, within enclosing: String?
    ) throws(TargetFileError) {
        guard depth < ReadLimits.sshdIncludeDepth else {
            throw TargetFileError(
                path, .tooLarge,
                "is included \(depth) levels deep; sshd refuses more than \(ReadLimits.sshdIncludeDepth) too")
        }
        reader.paths += 1
        guard reader.paths <= ReadLimits.globPaths else {
            throw TargetFileError(
                path, .tooLarge,
                "is one path more than the \(ReadLimits.globPaths) the agent considers for sshd_config's Includes")
        }
        let remaining = ReadLimits.sshdConfigTotal - reader.bytes
        // Lines are handled as they arrive; an Include met on the way is read right there, as sshd does.
        var match = enclosing
        var failure: TargetFileError?
        do throws(TargetFileError) {
            try files.lines(
                path, limit: min(ReadLimits.sshdConfigFile, remaining),
                accept: { identity in
                    // A file already read in the same context adds nothing (first value wins): skip it.
                    let fresh =
                        enclosing != nil
                        ? reader.seenInMatch.insert(identity).inserted : reader.seen.insert(identity).inserted
                    if fresh { reader.files += 1 }
                    return fresh
                }
            ) { line in
                reader.bytes += line.utf8.count + 1
                guard failure == nil else { return }
                do throws(TargetFileError) { try handle(line, &match, path, files, reader, depth) } catch {
                    failure = error
                }
            }
        } catch let error where error.kind == .tooLarge && remaining < ReadLimits.sshdConfigFile {
            throw TargetFileError(
                path, .tooLarge,
                "takes sshd_config and its Includes past \(ReadLimits.size(ReadLimits.sshdConfigTotal)), the most the agent reads of them"
            )
        }
        if let failure { throw failure }
        guard reader.files <= ReadLimits.sshdConfigFiles else {
            throw TargetFileError(
                path, .tooLarge,
                "is one file more than the \(ReadLimits.sshdConfigFiles) sshd_config files the agent reads")
        }
    }

    private mutating func handle(
        _ line: String, _ match: inout String?, _ path: String, _ files: some TargetFiles, _ reader: IncludeReader,
        _ depth: Int
    ) throws(TargetFileError) {
        let words = Self.words(line[...])
        guard let keyword = words.first?.lowercased() else { return }
        let args = Array(words.dropFirst())
        switch keyword {
        case "match":
            let condition = args.joined(separator: " ")
            match = condition.lowercased() == "all" ? nil : condition
        case "include":
            for pattern in args {
                let absolute = pattern.hasPrefix("/") ? pattern : "/etc/ssh/" + pattern
                for file in try files.glob(absolute) {
                    try apply(path: file, files, reader, depth: depth + 1, within: match)
                }
            }
        default:
            set(keyword, args, match: match)
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
