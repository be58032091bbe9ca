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
        var reader = PasswdReader()
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) { reader.add(line) }
        return (reader.entries, reader.skipped)
    }

    public static func parseGroup(_ text: String) -> (entries: [GroupEntry], skipped: [SkippedLine]) {
        var reader = GroupReader()
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) { reader.add(line) }
        return (reader.entries, reader.skipped)
    }

    /// A non-blank, non-comment, non-NIS line split on `:` (empty fields kept); nil for the others.
    static func fields(_ raw: some StringProtocol) -> [Substring]? {
        let whole = Substring(raw)
        let line = whole.hasSuffix("\r") ? whole.dropLast() : whole
        guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("+"), !line.hasPrefix("-") else { return nil }
        return line.split(separator: ":", omittingEmptySubsequences: false)
    }

    /// Skipped lines kept for the record: a hostile file of bad lines must not fill memory.
    static let maxSkipped = 100

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

/// passwd read line by line as the file streams in (a passwd of 200,000 accounts is ~12 MiB).
public struct PasswdReader {
    public private(set) var entries: [PasswdEntry] = []
    public private(set) var skipped: [SkippedLine] = []
    private var seen = Set<String>()
    private var number = 0

    public init() {}

    public mutating func add(_ line: some StringProtocol) {
        number += 1
        guard let fields = AccountFiles.fields(line) else { return }
        guard fields.count == 7 else { return skip("has \(fields.count) fields, expected 7") }
        guard let name = AccountFiles.validName(fields[0]) else { return skip("bad user name") }
        guard let uid = AccountFiles.id(fields[2]), let gid = AccountFiles.id(fields[3]) else {
            return skip("bad uid or gid")
        }
        guard let home = AccountFiles.safeHome(fields[5]) else {
            return skip("home \(fields[5].prefix(256)) is not a clean absolute path")
        }
        guard seen.insert(name).inserted else { return skip("duplicate user \(name)") }
        let shell = fields[6].isEmpty ? "/bin/sh" : String(fields[6])
        entries.append(PasswdEntry(name: name, uid: uid, gid: gid, gecos: String(fields[4]), home: home, shell: shell))
    }

    private mutating func skip(_ reason: String) {
        if skipped.count < AccountFiles.maxSkipped { skipped.append(SkippedLine(number: number, reason: reason)) }
    }
}

/// group read line by line; `keep` decides which groups are held (the inspection keeps only the
/// login user's, so a group file with huge member lists costs no memory).
public struct GroupReader {
    public private(set) var entries: [GroupEntry] = []
    public private(set) var skipped: [SkippedLine] = []
    private let keep: (GroupEntry) -> Bool
    private var number = 0

    public init(keep: @escaping (GroupEntry) -> Bool = { _ in true }) { self.keep = keep }

    public mutating func add(_ line: some StringProtocol) {
        number += 1
        guard let fields = AccountFiles.fields(line) else { return }
        guard fields.count == 4, let name = AccountFiles.validName(fields[0]), let gid = AccountFiles.id(fields[2])
        else {
            if skipped.count < AccountFiles.maxSkipped {
                skipped.append(SkippedLine(number: number, reason: "not name:password:gid:members"))
            }
            return
        }
        let members = fields[3].split(separator: ",").compactMap { AccountFiles.validName($0) }
        let entry = GroupEntry(name: name, gid: gid, members: members)
        if keep(entry) { entries.append(entry) }
    }
}
