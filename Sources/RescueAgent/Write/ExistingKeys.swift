import Glibc
import SystemPackage

/// The keys file as it is before the agent writes: its bytes, owner, mode and SELinux label, which
/// the new file and the backup keep. Read only if it is plausibly the user's authorized_keys.
struct ExistingKeys {
    /// sshd reads a keys file of any size; this bounds the agent's memory on a hostile disk.
    static let maxSize = 16 << 20

    var bytes: [UInt8]
    var owner: (uid: UInt32, gid: UInt32)
    /// Permission bits (`st_mode & 0o7777`).
    var mode: mode_t
    var label: [UInt8]?

    func node(_ realPath: String) -> PathNode { PathNode(path: realPath, uid: owner.uid, gid: owner.gid, mode: mode) }

    /// Nil when there is no such file. Refuses what is not a regular, singly linked, non-set-id text
    /// file owned by the user or root.
    static func read(_ dir: FileDescriptor, _ name: String, _ r: KeyWriteRequest) throws(KeyWriteError) -> ExistingKeys?
    {
        let path = r.keysFile
        let fd: FileDescriptor
        do {
            fd = try Syscalls.openAt(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch .noSuchFileOrDirectory {
            return nil
        } catch {
            guard error == .tooManySymbolicLinkLevels else { throw .system(error, doing: "open \(path)") }
            throw .refused(path: path, why: "it is a symlink")
        }
        defer { Syscalls.close(fd) }
        let st = try attempt("stat \(path)") { () throws(Errno) in try Syscalls.status(fd) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .refused(path: path, why: "it is \(PathTrouble.kind(st.st_mode)), not a regular file")
        }
        // A hard link can make another file of the target (e.g. /etc/shadow) look like
        // authorized_keys; copying its lines into a new file would leak them.
        guard st.st_nlink == 1 else {
            throw .refused(path: path, why: "it has \(st.st_nlink) hard links (another file of the disk shares it)")
        }
        try requireOwner(st, path, r)
        guard Int(st.st_size) <= maxSize else {
            throw .refused(path: path, why: "it is larger than \(maxSize >> 20) MiB")
        }
        let bytes: [UInt8]
        do { bytes = try Syscalls.readAll(fd, limit: maxSize) } catch .fileTooLarge {
            throw .refused(path: path, why: "it is larger than \(maxSize >> 20) MiB")
        } catch { throw .system(error, doing: "read \(path)") }
        let mode = st.st_mode & 0o7777
        if let why = KeysFilePolicy.contentRefusal(bytes, mode: mode) { throw .refused(path: path, why: why) }
        // A filesystem without xattrs (or without this one) simply has no label to keep.
        let label = (try? Syscalls.extendedAttribute(fd, "security.selinux")) ?? nil
        return ExistingKeys(bytes: bytes, owner: (st.st_uid, st.st_gid), mode: mode, label: label)
    }

    /// A keys file, or a directory holding one, belongs to the user or to root; another account's is refused.
    static func requireOwner(_ st: stat, _ path: String, _ r: KeyWriteRequest) throws(KeyWriteError) {
        guard st.st_uid != 0, st.st_uid != r.uid else { return }
        throw .refused(
            path: path, why: "\(path) is owned by \(r.account.owner(st.st_uid)), not by \(r.userName) or root")
    }
}

/// Replaces a file atomically: a new file beside the old one, owned and moded (and labelled)
/// before any byte is written, synced, renamed over the old name, and the directory synced.
enum AtomicFile {
    static func replace(
        in dir: FileDescriptor, name: String, content: [UInt8], owner: (uid: UInt32, gid: UInt32), mode: mode_t,
        label: [UInt8]?, path: String
    ) throws(KeyWriteError) {
        let temp = ".\(name).keyrescue-\(getpid())"
        try? Syscalls.unlinkAt(dir, temp)  // a leftover of an earlier, killed run
        // Created 0600 and root's: no one else can open it before its owner and mode are set.
        let fd = try attempt("create a temporary file beside \(path)") { () throws(Errno) in
            try Syscalls.openAt(dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        }
        var renamed = false
        defer {
            Syscalls.close(fd)
            if !renamed { try? Syscalls.unlinkAt(dir, temp) }
        }
        try attempt("set the owner and mode of \(TargetPath.join(TargetPath.split(path).parent, name))") {
            () throws(Errno) in
            try Syscalls.changeOwner(fd, uid: owner.uid, gid: owner.gid)
            try Syscalls.changeMode(fd, mode)
        }
        if let label {
            try attempt("set the SELinux label of \(path)") { () throws(Errno) in
                try Syscalls.setExtendedAttribute(fd, "security.selinux", label)
            }
        }
        try attempt("write \(path)") { () throws(Errno) in try Syscalls.writeAll(fd, content) }
        try attempt("sync \(path)") { () throws(Errno) in try Syscalls.sync(fd) }
        try attempt("rename into \(path)") { () throws(Errno) in try Syscalls.renameAt(dir, temp, name) }
        renamed = true
        try attempt("sync the directory of \(path)") { () throws(Errno) in try Syscalls.sync(dir) }
    }
}
