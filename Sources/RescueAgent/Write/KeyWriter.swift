#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Glibc
import RescueModel
import SystemPackage

/// What to write where: everything decided beforehand from the target's own files.
public struct KeyWriteRequest: Sendable {
    public var home: String
    public var uid: UInt32
    public var gid: UInt32
    /// The authorized_keys file as a target path (AuthorizedKeysFile already expanded).
    public var keysFile: String
    public var keys: [PublicKey]
    public var runID: String
    public var replace: Bool
    public var dryRun: Bool
    public var backup: Bool
    /// `security.selinux` for `.ssh` and the file; nil on targets without SELinux.
    public var selinuxLabel: String?
    /// The login name, for messages.
    public var userName: String
    /// The user's groups on the target (primary and supplementary): sshd reads the file with them.
    public var groups: Set<UInt32>
    /// Account names by uid from the target's passwd, to name owners in refusals.
    public var accountNames: [UInt32: String]
    /// The target's sshd_config `StrictModes` (default yes).
    public var strictModes: Bool
    /// Groups in which the target's sshd accepts a group-writable path of the user's (Debian, Ubuntu).
    public var privateGroups: Set<UInt32> = []

    public init(
        home: String, uid: UInt32, gid: UInt32, keysFile: String, keys: [PublicKey], runID: String,
        replace: Bool = false, dryRun: Bool = false, backup: Bool = true, selinuxLabel: String? = nil,
        userName: String? = nil, groups: Set<UInt32> = [], accountNames: [UInt32: String] = [:],
        strictModes: Bool = true
    ) {
        self.home = home
        self.uid = uid
        self.gid = gid
        self.keysFile = keysFile
        self.keys = keys
        self.runID = runID
        self.replace = replace
        self.dryRun = dryRun
        self.backup = backup
        self.selinuxLabel = selinuxLabel
        self.userName = userName ?? accountNames[uid] ?? "uid \(uid)"
        self.groups = groups.union([gid])
        self.accountNames = accountNames
        self.strictModes = strictModes
    }

    var account: LoginAccount {
        LoginAccount(name: userName, uid: uid, groups: groups, names: accountNames, privateGroups: privateGroups)
    }
}

public struct KeyWriteResult: Equatable, Sendable {
    public var keysFile: String
    public var backupPath: String?
    /// Every key was already there: nothing needed writing.
    public var alreadyPresent: Bool
    /// The file was (or, in a dry run, would be) rewritten.
    public var changed: Bool
    /// Lines `--replace` removed.
    public var removed: [String]
    /// Lines that already held the key behind options (command=, from=, restrict…): the key was
    /// added plainly before them.
    public var keysBehindOptions: [String] = []
}

/// Writes authorized_keys beneath a SafeRoot. Only what it creates becomes the user's: an existing
/// file, backup or directory keeps its owner and mode. It refuses, before writing anything,
/// symlinks, system files, keys files or directories of other accounts, and any path sshd's
/// StrictModes (or the user's own access) would make the login fail on. The file is replaced
/// atomically (temp file, fchown, fchmod, fsync, rename, fsync of the directory) and read back.
public enum KeyWriter {
    public typealias Failure = RescueReport.Failure

    public static func write(
        _ request: KeyWriteRequest, in root: SafeRoot, now: Date = Date()
    ) throws(Failure) -> KeyWriteResult {
        do {
            return try perform(request, root, now)
        } catch {
            throw error.failure
        }
    }

    private static func perform(_ r: KeyWriteRequest, _ root: SafeRoot, _ now: Date) throws(KeyWriteError)
        -> KeyWriteResult
    {
        let place = try KeysLocation.find(r, root)
        defer { Syscalls.close(place.deepest) }
        let name = TargetPath.split(r.keysFile).name
        let realFile = place.realPath(of: name)
        for path in Set([r.keysFile, realFile]) {
            if let why = KeysFilePolicy.systemFileRefusal(path) { throw .refused(path: r.keysFile, why: why) }
        }
        let existing = place.missing.isEmpty ? try ExistingKeys.read(place.deepest, name, r) : nil
        try LoginCheck.before(
            r, root, place: place, file: existing?.node(realFile) ?? place.created(realFile, r, mode: 0o600))

        let edit = AuthorizedKeys.edit(
            existing: existing?.bytes, adding: r.keys, runID: r.runID, date: now, replace: r.replace)
        var result = KeyWriteResult(
            keysFile: r.keysFile, backupPath: nil, alreadyPresent: edit.alreadyPresent, changed: edit.changed,
            removed: edit.removed, keysBehindOptions: edit.keysBehindOptions)
        if r.dryRun { return result }

        let dir = try place.createMissing(r)
        defer { if dir != place.deepest { Syscalls.close(dir) } }
        let inHome = place.underHome
        // The directory holding the file gets ssh_home_t when it is below the home (.ssh), never the home itself.
        let parent = TargetPath.split(r.keysFile).parent
        if inHome, place.missing.isEmpty, parent != r.home, let label = r.selinuxLabel {
            try attempt("set the SELinux label of \(parent)") { () throws(Errno) in
                try Syscalls.setExtendedAttribute(dir, "security.selinux", Array(label.utf8) + [0])
            }
        }
        let computed = r.selinuxLabel.map { Array($0.utf8) + [0] }
        if edit.changed {
            if let existing, r.backup {
                let backupName = "\(name).keyrescue-\(safeName(r.runID)).bak"
                try AtomicFile.replace(
                    in: dir, name: backupName, content: existing.bytes, owner: existing.owner, mode: existing.mode,
                    label: existing.label, path: r.keysFile)
                result.backupPath = TargetPath.join(parent, backupName)
            }
            let owner = existing?.owner ?? (r.uid, r.gid)
            let label = inHome ? computed : (existing?.label ?? computed)
            try AtomicFile.replace(
                in: dir, name: name, content: edit.content, owner: owner, mode: existing?.mode ?? 0o600, label: label,
                path: r.keysFile)
        }
        try LoginCheck.verify(r, root, owner: existing?.owner ?? (r.uid, r.gid), mode: existing?.mode ?? 0o600)
        return result
    }

    private static func safeName(_ text: String) -> String {
        let kept = text.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return kept.isEmpty ? "run" : String(kept.prefix(64))
    }
}
