#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CLinux
import Glibc
import RescueModel

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

    public init(
        home: String, uid: UInt32, gid: UInt32, keysFile: String, keys: [PublicKey], runID: String,
        replace: Bool = false, dryRun: Bool = false, backup: Bool = true, selinuxLabel: String? = nil
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
}

/// Writes authorized_keys beneath a SafeRoot: refuses symlinked homes, directories and files,
/// creates what is missing with the user's ownership, replaces the file atomically (temp file,
/// fchown, fchmod, fsync, rename, fsync of the directory), and reads it back before saying yes.
public enum KeyWriter {
    public static func write(_ request: KeyWriteRequest, in root: SafeRoot, now: Date = Date()) throws(RescueReport.Failure) -> KeyWriteResult {
        do {
            return try perform(request, root, now)
        } catch let error as RescueReport.Failure {
            throw error
        } catch let error as SystemError {
            throw RescueReport.Failure(.writeFailed, error.description, hint: "check the target filesystem (read-only? full? corrupt?) and run again")
        } catch {
            throw RescueReport.Failure(.internalError, "\(error)", hint: "report this as a keyrescue bug")
        }
    }

    private static func perform(_ r: KeyWriteRequest, _ root: SafeRoot, _ now: Date) throws -> KeyWriteResult {
        let dir = try openKeysDirectory(r, root)
        defer { if dir >= 0 { close(dir) } }
        let name = TargetPath.split(r.keysFile).name
        let existing = try readExisting(dir: dir, name: name, path: r.keysFile)
        let edit = AuthorizedKeys.edit(existing: existing, adding: r.keys, runID: r.runID, date: now, replace: r.replace)
        var result = KeyWriteResult(
            keysFile: r.keysFile, backupPath: nil, alreadyPresent: edit.alreadyPresent, changed: edit.changed,
            removed: edit.removed)
        if r.dryRun { return result }
        guard dir >= 0 else { throw SystemError(ENOENT, "the directory of \(r.keysFile) was not created") }

        if let label = r.selinuxLabel { try setLabel(dir, label, TargetPath.split(r.keysFile).parent) }
        if edit.changed {
            if let existing, r.backup {
                let backupName = "\(name).keyrescue-\(safeName(r.runID)).bak"
                try replaceFile(dir: dir, name: backupName, content: existing, r)
                result.backupPath = TargetPath.join(TargetPath.split(r.keysFile).parent, backupName)
            }
            try replaceFile(dir: dir, name: name, content: edit.content, r)
        } else {
            try fixOwnership(dir: dir, name: name, r)
        }
        try verify(r, root)
        return result
    }

    /// The directory holding the keys file, opened without following a final symlink. Under the
    /// home, missing directories are created 0700 for the user; `-1` in a dry run where one is missing.
    private static func openKeysDirectory(_ r: KeyWriteRequest, _ root: SafeRoot) throws -> Int32 {
        guard let home = root.lstatInRoot(r.home) else {
            throw RescueReport.Failure(
                .homeNotOnDisk, "the home directory \(r.home) does not exist on this filesystem",
                hint: "it may be on another volume (see the target's /etc/fstab); attach that volume too or pass --user")
        }
        guard (home.st_mode & S_IFMT) == S_IFDIR else {
            throw unsafe(r.home, "the home directory is a symlink or not a directory")
        }
        // The walk below the home uses plain openat, where `..` would climb out of the target root
        // (a hostile sshd_config can say `AuthorizedKeysFile .ssh/../../../x`): refuse it anywhere.
        let components = r.keysFile.split(separator: "/")
        guard !components.contains(where: { $0 == ".." || $0 == "." }) else {
            throw unsafe(r.keysFile, "the path contains `.` or `..` (from the target's AuthorizedKeysFile)")
        }
        let parent = TargetPath.split(r.keysFile).parent
        let homePrefix = r.home.hasSuffix("/") ? r.home : r.home + "/"
        guard parent.hasPrefix(homePrefix) || parent == r.home else {
            // A system-wide AuthorizedKeysFile (e.g. /etc/ssh/keys/%u): its directory must exist.
            let fd = root.open(parent, flags: O_RDONLY | O_DIRECTORY, noFollow: true)
            guard fd >= 0 else { throw refusal(errno, parent) }
            return fd
        }
        var fd = root.open(r.home, flags: O_RDONLY | O_DIRECTORY, noFollow: true)
        guard fd >= 0 else { throw refusal(errno, r.home) }
        var current = r.home
        let below = parent.dropFirst(r.home.count).split(separator: "/").map(String.init)
        for (index, component) in below.enumerated() {
            current = TargetPath.join(current, component)
            // Only what we create, and an existing `.ssh` that holds the file, get the user's owner
            // and 0700: a home of `/` with `AuthorizedKeysFile /etc/ssh/keys/%u` must leave /etc alone.
            var takeOver = index == below.count - 1 && component == ".ssh"
            var next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                takeOver = true
                if r.dryRun { close(fd); return -1 }
                guard mkdirat(fd, component, 0o700) == 0 else { close(fd); throw SystemError(errno, "cannot create \(current)") }
                next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            close(fd)
            guard next >= 0 else { throw refusal(errno, current) }
            fd = next
            if !r.dryRun && takeOver {
                guard fchown(fd, r.uid, r.gid) == 0, fchmod(fd, 0o700) == 0 else {
                    close(fd)
                    throw SystemError(errno, "cannot set the owner and mode of \(current)")
                }
            }
        }
        return fd
    }

    private static func readExisting(dir: Int32, name: String, path: String) throws -> [UInt8]? {
        guard dir >= 0 else { return nil }
        let fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw refusal(errno, path)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError(errno, "cannot stat \(path)") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw unsafe(path, "it is not a regular file") }
        // A hard link can make another file of the target (e.g. /etc/shadow) look like
        // authorized_keys; copying its lines into a file the user owns would leak them.
        guard st.st_nlink == 1 else { throw unsafe(path, "it has \(st.st_nlink) hard links (another file of the disk shares it)") }
        guard Int(st.st_size) <= SafeRoot.maxFileSize else { throw SystemError(EFBIG, "\(path) is too large") }
        return try readAll(fd, what: path)
    }

    /// Atomic replacement: a new file beside the old one, owned and moded before any byte is
    /// written, synced, renamed over the old name, and the directory synced.
    private static func replaceFile(dir: Int32, name: String, content: [UInt8], _ r: KeyWriteRequest) throws {
        let temp = ".\(name).keyrescue-\(getpid())"
        unlinkat(dir, temp, 0)
        let fd = openat(dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError(errno, "cannot create a temporary file beside \(r.keysFile)") }
        var ok = false
        defer {
            close(fd)
            if !ok { unlinkat(dir, temp, 0) }
        }
        guard fchown(fd, r.uid, r.gid) == 0, fchmod(fd, 0o600) == 0 else {
            throw SystemError(errno, "cannot set the owner and mode of \(r.keysFile)")
        }
        if let label = r.selinuxLabel { try setLabel(fd, label, r.keysFile) }
        try writeAll(fd, content, what: r.keysFile)
        guard fsync(fd) == 0 else { throw SystemError(errno, "cannot sync \(r.keysFile)") }
        guard renameat(dir, temp, dir, name) == 0 else { throw SystemError(errno, "cannot rename into \(r.keysFile)") }
        ok = true
        guard fsync(dir) == 0 else { throw SystemError(errno, "cannot sync the directory of \(r.keysFile)") }
    }

    /// The key was already there: still make sure sshd's StrictModes will accept the file.
    private static func fixOwnership(dir: Int32, name: String, _ r: KeyWriteRequest) throws {
        let fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw refusal(errno, r.keysFile) }
        defer { close(fd) }
        guard fchown(fd, r.uid, r.gid) == 0, fchmod(fd, 0o600) == 0 else {
            throw SystemError(errno, "cannot set the owner and mode of \(r.keysFile)")
        }
        if let label = r.selinuxLabel { try setLabel(fd, label, r.keysFile) }
        guard fsync(fd) == 0 else { throw SystemError(errno, "cannot sync \(r.keysFile)") }
    }

    private static func setLabel(_ fd: Int32, _ label: String, _ path: String) throws {
        guard kr_fsetxattr(fd, "security.selinux", label, label.utf8.count + 1, 0) == 0 else {
            throw SystemError(errno, "cannot set the SELinux label of \(path)")
        }
    }

    /// Reads the file back through a fresh resolution from the root: every key present, the
    /// right owner, mode 0600, and a directory sshd's StrictModes accepts.
    private static func verify(_ r: KeyWriteRequest, _ root: SafeRoot) throws {
        let fd = root.open(r.keysFile, flags: O_RDONLY, noFollow: true)
        guard fd >= 0 else { throw failedCheck("cannot open \(r.keysFile) again: \(SystemError.text(errno))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw failedCheck("\(r.keysFile) is not a regular file") }
        guard st.st_uid == r.uid, st.st_gid == r.gid, st.st_mode & 0o7777 == 0o600 else {
            throw failedCheck("\(r.keysFile) has owner \(st.st_uid):\(st.st_gid) mode \(String(st.st_mode & 0o7777, radix: 8)), expected \(r.uid):\(r.gid) 600")
        }
        if let key = AuthorizedKeys.missing(r.keys, in: try readAll(fd, what: r.keysFile)).first {
            throw failedCheck("\(key.fingerprint) is not in \(r.keysFile) after writing it")
        }
    }

    private static func failedCheck(_ message: String) -> RescueReport.Failure {
        RescueReport.Failure(.verifyFailed, message, hint: "the target filesystem did not keep what was written; check it with fsck")
    }

    private static func refusal(_ err: Int32, _ path: String) -> any Error {
        err == ELOOP || err == ENOTDIR || err == EXDEV
            ? unsafe(path, "a symlink stands where a directory or file must be") : SystemError(err, "cannot open \(path)")
    }

    private static func unsafe(_ path: String, _ why: String) -> RescueReport.Failure {
        RescueReport.Failure(
            .unsafePath, "refusing to write through \(path) on the target: \(why)",
            hint: "sshd refuses such keys too; inspect the disk by hand (keyrescue-agent probe) and fix the path first")
    }

    private static func safeName(_ text: String) -> String {
        let kept = text.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return kept.isEmpty ? "run" : String(kept.prefix(64))
    }
}

func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws(SystemError) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw SystemError(errno, "cannot write \(what)")
        }
        offset += n
    }
}
