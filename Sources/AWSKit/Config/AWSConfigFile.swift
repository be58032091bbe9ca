import Foundation

/// The INI dialect of ~/.aws/config and ~/.aws/credentials, parsed from a string (no I/O).
///
/// `[section]` headers, `key = value` (or `key: value`) lines, `#`/`;` comment lines, and
/// indented sub-keys under a key with an empty value (`s3 =` then `  addressing_style = path`),
/// stored as `s3.addressing_style`. Keys are case-sensitive as in the CLI; blank values are kept.
public struct AWSConfigFile: Sendable, Equatable {
    /// Sections in file order of first appearance; a repeated header merges into the first.
    public var sections: [String: [String: String]]

    public init(sections: [String: [String: String]] = [:]) { self.sections = sections }

    public static func parse(_ text: String) -> AWSConfigFile {
        var sections = [String: [String: String]]()
        var current: String?
        var parentKey: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("["), trimmed.hasSuffix("]") {
                let name = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                current = name
                parentKey = nil
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let (key, value) = keyValue(trimmed) else { continue }
            let indented = line.first.map { $0 == " " || $0 == "\t" } ?? false
            if indented, let parent = parentKey {
                sections[section, default: [:]]["\(parent).\(key)"] = value
                continue
            }
            sections[section, default: [:]][key] = value
            parentKey = value.isEmpty ? key : nil
        }
        return AWSConfigFile(sections: sections)
    }

    /// `key = value # comment`: an inline comment needs whitespace before `#` or `;`.
    private static func keyValue(_ line: String) -> (String, String)? {
        guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
        let key = line[..<separator].trimmingCharacters(in: .whitespaces)
        var value = String(line[line.index(after: separator)...])
        for marker in [" #", "\t#", " ;", "\t;"] {
            if let range = value.range(of: marker) { value = String(value[..<range.lowerBound]) }
        }
        guard !key.isEmpty else { return nil }
        return (key, value.trimmingCharacters(in: .whitespaces))
    }
}

/// The profiles, SSO sessions and services sections of both files, as the CLI reads them:
/// `[profile x]` (and `[default]`) in config, `[x]` in credentials, `[sso-session x]`,
/// `[services x]`. Credentials-file keys are kept apart: they take precedence, and the chain
/// treats static keys there before a `credential_process`.
public struct AWSProfiles: Sendable, Equatable {
    public var configProfiles: [String: [String: String]] = [:]
    public var credentialsProfiles: [String: [String: String]] = [:]
    public var ssoSessions: [String: [String: String]] = [:]
    public var services: [String: [String: String]] = [:]

    public init(config: AWSConfigFile, credentials: AWSConfigFile) {
        for (name, keys) in config.sections {
            if name == "default" {
                configProfiles["default", default: [:]].merge(keys) { $1 }
            } else if let rest = Self.suffix(of: name, after: "profile") {
                configProfiles[rest, default: [:]].merge(keys) { $1 }
            } else if let rest = Self.suffix(of: name, after: "sso-session") {
                ssoSessions[rest] = keys
            } else if let rest = Self.suffix(of: name, after: "services") {
                services[rest] = keys
            }
        }
        credentialsProfiles = credentials.sections
    }

    /// `profile  x` → `x`; nil for other section kinds.
    private static func suffix(of section: String, after word: String) -> String? {
        guard section.hasPrefix(word), section.count > word.count,
            section[section.index(section.startIndex, offsetBy: word.count)].isWhitespace
        else { return nil }
        return section.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
    }

    public func exists(_ profile: String) -> Bool {
        configProfiles[profile] != nil || credentialsProfiles[profile] != nil
    }

    /// All keys of a profile, credentials-file values winning.
    public func merged(_ profile: String) -> [String: String] {
        (configProfiles[profile] ?? [:]).merging(credentialsProfiles[profile] ?? [:]) { $1 }
    }
}
