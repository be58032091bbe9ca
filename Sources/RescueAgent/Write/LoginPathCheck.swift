/// One object on the way to the keys file, as fstat sees it (or as the writer will create it).
struct PathNode: Equatable, Sendable {
    /// Real path on the target (no symlinks), `/` for the target's root.
    var path: String
    var uid: UInt32
    var gid: UInt32
    /// Permission bits only (`st_mode & 0o7777`).
    var mode: UInt32
}

/// Who sshd is when it opens the keys file: it switches to the user and their groups first
/// (OpenSSH's `temporarily_use_uid` before `auth_openkeyfile`).
struct LoginAccount: Equatable, Sendable {
    var name: String
    var uid: UInt32
    /// The primary group and every group of the target's /etc/group that lists the user.
    var groups: Set<UInt32>
    /// Names of the target's accounts by uid, to name owners in refusals.
    var names: [UInt32: String] = [:]
    /// Groups whose only member is the user, where the target's sshd accepts a group-writable path
    /// of the user's (Debian's and Ubuntu's "allow harmless group-writability" patch); else empty.
    var privateGroups: Set<UInt32> = []

    func owner(_ uid: UInt32) -> String { names[uid].map { "\($0) (uid \(uid))" } ?? "uid \(uid)" }
}

/// Would sshd accept the keys file at this path? Pure: the nodes come from the disk's own stat.
enum LoginPathCheck {
    /// sshd's StrictModes, as OpenSSH's `safe_path` (misc.c) does it: the file, then each directory
    /// upward to the home (inclusive) or `/`, owned by root or the user and writable by neither group
    /// nor others. `directories` run from the file's directory up to `/`; `home` is a real path.
    static func strictModesProblem(file: PathNode, directories: [PathNode], home: String, account: LoginAccount)
        -> String?
    {
        if let why = unsafe(file, account) { return "\(why) (file)" }
        for directory in directories {
            if let why = unsafe(directory, account) { return why }
            if directory.path == home { break }
        }
        return nil
    }

    /// sshd reads the file as the user: each directory from `/` down must let them search it and
    /// the file must let them read it. Root reads everything.
    static func accessProblem(file: PathNode, directories: [PathNode], account: LoginAccount) -> String? {
        guard account.uid != 0 else { return nil }
        for directory in directories.reversed() where !allows(directory, account, bit: 0o1) {
            return
                "\(account.name) cannot enter \(describe(directory)), and sshd opens the keys file as \(account.name)"
        }
        guard allows(file, account, bit: 0o4) else {
            return "\(account.name) cannot read \(describe(file)), and sshd opens it as \(account.name)"
        }
        return nil
    }

    private static func unsafe(_ node: PathNode, _ account: LoginAccount) -> String? {
        if node.uid != 0 && node.uid != account.uid {
            return "\(node.path) is owned by \(account.owner(node.uid)), not by \(account.name) or root"
        }
        let harmless = node.uid == account.uid && account.privateGroups.contains(node.gid)
        if node.mode & (harmless ? 0o002 : 0o022) != 0 {
            let who =
                node.mode & 0o020 != 0 ? (node.mode & 0o002 != 0 ? "its group and others" : "its group") : "others"
            return "\(node.path) is writable by \(who) (mode \(octal(node.mode)))"
        }
        return nil
    }

    /// Groups that hold the user and no one else, as Debian's sshd counts them: every account whose
    /// primary group it is is the user, its member list is empty or just the user, and someone is in it.
    static func privateGroups(of user: PasswdEntry, passwd: [PasswdEntry], groups: [GroupEntry]) -> Set<UInt32> {
        var primary: [UInt32: [UInt32]] = [:]
        for entry in passwd { primary[entry.gid, default: []].append(entry.uid) }
        return Set(
            groups.filter { group in
                let owners = primary[group.gid] ?? []
                guard owners.allSatisfy({ $0 == user.uid }), group.members.isEmpty || group.members == [user.name]
                else {
                    return false
                }
                return !owners.isEmpty || !group.members.isEmpty
            }.map(\.gid))
    }

    /// The permission class that applies to the account, as the kernel picks it (owner, else group, else other).
    private static func allows(_ node: PathNode, _ account: LoginAccount, bit: UInt32) -> Bool {
        if node.uid == account.uid { return node.mode & (bit << 6) != 0 }
        if account.groups.contains(node.gid) { return node.mode & (bit << 3) != 0 }
        return node.mode & bit != 0
    }

    static func describe(_ node: PathNode) -> String {
        "\(node.path) (owner \(node.uid):\(node.gid), mode \(octal(node.mode)))"
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
