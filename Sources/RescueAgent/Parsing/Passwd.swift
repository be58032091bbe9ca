/// One account from the target's `/etc/passwd`.
public struct PasswdEntry: Equatable, Sendable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    public var gecos: String
    public var home: String
    public var shell: String

    public init(name: String, uid: UInt32, gid: UInt32, gecos: String = "", home: String, shell: String) {
        (self.name, self.uid, self.gid, self.gecos, self.home, self.shell) = (name, uid, gid, gecos, home, shell)
    }
}

/// One group from the target's `/etc/group`.
public struct GroupEntry: Equatable, Sendable {
    public var name: String
    public var gid: UInt32
    public var members: [String]

    public init(name: String, gid: UInt32, members: [String]) {
        (self.name, self.gid, self.members) = (name, gid, members)
    }
}

/// A line the parser skipped, and why (reported as a warning, never fatal on its own).
public struct SkippedLine: Equatable, Sendable {
    public var number: Int
    public var reason: String
}

/// passwd(5) and group(5), read as hostile input: exact field counts, decimal ids within
/// 0…4294967294 (-1 is "no id"), absolute homes without `..`; NIS `+`/`-` lines skipped. The first
/// entry of a name wins, as getpwnam does.
public enum AccountFiles {
    public static func parsePasswd(_ text: String) -> (entries: [PasswdEntry], skipped: [SkippedLine]) {
        var entries: [PasswdEntry] = []
        var skipped: [SkippedLine] = []
        var seen = Set<String>()
        for (number, fields) in records(text) {
            func skip(_ reason: String) { skipped.append(SkippedLine(number: number, reason: reason)) }
            guard fields.count == 7 else { skip("has \(fields.count) fields, expected 7"); continue }
            guard let name = validName(fields[0]) else { skip("bad user name"); continue }
            guard let uid = id(fields[2]), let gid = id(fields[3]) else { skip("bad uid or gid"); continue }
            guard let home = safeHome(fields[5]) else { skip("home \(fields[5]) is not a clean absolute path"); continue }
            guard seen.insert(name).inserted else { skip("duplicate user \(name)"); continue }
            let shell = fields[6].isEmpty ? "/bin/sh" : String(fields[6])
            entries.append(PasswdEntry(name: name, uid: uid, gid: gid, gecos: String(fields[4]), home: home, shell: shell))
        }
        return (entries, skipped)
    }

    public static func parseGroup(_ text: String) -> (entries: [GroupEntry], skipped: [SkippedLine]) {
        var entries: [GroupEntry] = []
        var skipped: [SkippedLine] = []
        for (number, fields) in records(text) {
            guard fields.count == 4, let name = validName(fields[0]), let gid = id(fields[2]) else {
                skipped.append(SkippedLine(number: number, reason: "not name:password:gid:members"))
                continue
            }
            let members = fields[3].split(separator: ",").compactMap { validName($0) }
            entries.append(GroupEntry(name: name, gid: gid, members: members))
        }
        return (entries, skipped)
    }

    /// Non-blank, non-comment, non-NIS lines split on `:` (empty fields kept), with 1-based numbers.
    private static func records(_ text: String) -> [(Int, [Substring])] {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().compactMap {
            let line = $0.element.hasSuffix("\r") ? $0.element.dropLast() : $0.element
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("+"), !line.hasPrefix("-") else { return nil }
            return ($0.offset + 1, line.split(separator: ":", omittingEmptySubsequences: false))
        }
    }

    /// Names as useradd allows them, loosely: no spaces, slashes, control characters or leading dash.
    static func validName(_ field: Substring) -> String? {
        guard !field.isEmpty, field.count <= 256, field.first != "-",
            field.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f && $0 != "/" && $0 != ":" })
        else { return nil }
        return String(field)
    }

    static func id(_ field: Substring) -> UInt32? {
        guard !field.isEmpty, field.count <= 10, field.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = UInt64(field), value < UInt64(UInt32.max)
        else { return nil }
        return UInt32(value)
    }

    static func safeHome(_ field: Substring) -> String? {
        guard field.hasPrefix("/"), !field.contains("\0") else { return nil }
        let parts = field.split(separator: "/")
        guard !parts.contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        return "/" + parts.joined(separator: "/")
    }
}
