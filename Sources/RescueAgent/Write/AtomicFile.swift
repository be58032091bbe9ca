import CLinux
import Glibc

/// The atomic replacement of one file inside an open directory, with the owner set before the content.
enum AtomicFile {
    /// Temp file (O_EXCL, O_NOFOLLOW) → fchown → fchmod 0600 → label → write → fsync → backup hard link
    /// of the old file → renameat over it → fsync the directory. On failure the temp file is removed and
    /// the old file is untouched.
    static func replace(
        in directory: Int32, name: String, content: [UInt8], uid: UInt32, gid: UInt32, backupName: String?,
        selinuxLabel: String?, path: String
    ) throws(SafeRootError) {
        let temp = ".\(name).keyrescue-\(getpid()).tmp"
        _ = unlinkat(directory, temp, 0)  // a leftover of an interrupted run of ours
        let fd = openat(directory, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .fromErrno(path, "cannot create a temporary file") }
        var renamed = false
        defer { if !renamed { _ = unlinkat(directory, temp, 0) } }
        do {
            defer { Glibc.close(fd) }
            guard fchown(fd, uid, gid) == 0 else { throw .fromErrno(path, "cannot set the owner") }
            guard fchmod(fd, 0o600) == 0 else { throw .fromErrno(path, "cannot set the mode") }
            if let label = selinuxLabel { try setLabel(fd, label, path: path) }
            try writeAll(fd, content, path: path)
            guard fsync(fd) == 0 else { throw .fromErrno(path, "cannot sync") }
        }
        if let backupName {
            _ = unlinkat(directory, backupName, 0)
            guard linkat(directory, name, directory, backupName, 0) == 0 else {
                throw .fromErrno(path, "cannot keep a backup as \(backupName)")
            }
        }
        guard renameat(directory, temp, directory, name) == 0 else { throw .fromErrno(path, "cannot rename into place") }
        renamed = true
        guard fsync(directory) == 0 else { throw .fromErrno(path, "cannot sync the directory") }
    }

    /// The key is already there: make sure owner and mode are what sshd wants (no symlink followed).
    static func fixOwnerAndMode(in directory: Int32, name: String, uid: UInt32, gid: UInt32, path: String)
        throws(SafeRootError)
    {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .fromErrno(path, "cannot open") }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fromErrno(path, "cannot stat") }
        if info.st_uid != uid || info.st_gid != gid {
            guard fchown(fd, uid, gid) == 0 else { throw .fromErrno(path, "cannot set the owner") }
        }
        if info.st_mode & 0o7777 != 0o600 {
            guard fchmod(fd, 0o600) == 0 else { throw .fromErrno(path, "cannot set the mode") }
        }
        guard fsync(fd) == 0 else { throw .fromErrno(path, "cannot sync") }
    }

    /// Sets `security.selinux`. The corresponding C function is `fsetxattr`.
    static func setLabel(_ fd: Int32, _ label: String, path: String) throws(SafeRootError) {
        let bytes = Array(label.utf8) + [0]
        let result = bytes.withUnsafeBytes { kr_fsetxattr(fd, "security.selinux", $0.baseAddress, $0.count, 0) }
        guard result == 0 else { throw .fromErrno(path, "cannot set the SELinux label \(label)") }
    }

    static func writeAll(_ fd: Int32, _ content: [UInt8], path: String) throws(SafeRootError) {
        var offset = 0
        while offset < content.count {
            let count = content.withUnsafeBytes { bytes in
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                return Glibc.write(fd, rest.baseAddress, rest.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .fromErrno(path, "cannot write")
            }
            offset += count
        }
    }
}
