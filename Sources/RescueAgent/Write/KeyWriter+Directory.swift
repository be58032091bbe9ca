import CLinux
import Glibc

extension KeyWriter {
    struct OpenedDirectory {
        var fd: Int32
        var created: Bool
    }

    /// Opens the directory that holds authorized_keys. Below the home (the usual `~/.ssh`), the home and
    /// each directory under it are opened with O_NOFOLLOW, and a missing `.ssh` is created 0700 owned by
    /// the user; elsewhere (e.g. `/etc/ssh/keys`) the directory must exist and not be a symlink.
    func openDirectory(_ parent: String, request: KeyWriteRequest) throws(SafeRootError) -> OpenedDirectory {
        let home = request.home.hasSuffix("/") && request.home.count > 1 ? String(request.home.dropLast()) : request.home
        guard parent == home || parent.hasPrefix(home + "/") else {
            return OpenedDirectory(fd: try openNoFollow(parent), created: false)
        }
        var fd = try openNoFollow(home, what: "the home directory")
        var created = false
        var path = home
        for component in parent.dropFirst(home.count).split(separator: "/") {
            let name = String(component)
            guard name != ".", name != ".." else {
                Glibc.close(fd)
                throw SafeRootError(parent, "`.` or `..` in the authorized_keys path (refused)")
            }
            path += "/" + name
            do {
                let (next, made) = try Self.openOrCreateChild(fd, name, path: path, request: request)
                Glibc.close(fd)
                fd = next
                created = created || made
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        return OpenedDirectory(fd: fd, created: created)
    }

    private func openNoFollow(_ path: String, what: String = "directory") throws(SafeRootError) -> Int32 {
        do {
            return try root.open(path, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        } catch {
            if error.errno == ELOOP || error.errno == ENOTDIR {
                throw SafeRootError(path, errno: error.errno, "\(what) is a symlink or not a directory (refused)")
            }
            throw error
        }
    }

    /// Opens `name` under `directory` without following a symlink; creates it 0700 uid:gid when missing
    /// (unless dry run, where a missing directory yields -1 and `created` true).
    static func openOrCreateChild(_ directory: Int32, _ name: String, path: String, request: KeyWriteRequest)
        throws(SafeRootError) -> (Int32, Bool)
    {
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        var fd = openat(directory, name, flags)
        if fd >= 0 { return (fd, false) }
        guard errno == ENOENT else {
            if errno == ELOOP || errno == ENOTDIR {
                throw SafeRootError(path, errno: errno, "is a symlink or not a directory (refused)")
            }
            throw .fromErrno(path, "cannot open")
        }
        if request.dryRun { return (try dupDirectory(directory, path), true) }
        guard mkdirat(directory, name, 0o700) == 0 else { throw .fromErrno(path, "cannot create") }
        fd = openat(directory, name, flags)
        guard fd >= 0 else { throw .fromErrno(path, "cannot open the new directory") }
        guard fchown(fd, request.uid, request.gid) == 0, fchmod(fd, 0o700) == 0 else {
            let error = SafeRootError.fromErrno(path, "cannot set owner and mode")
            Glibc.close(fd)
            throw error
        }
        if let label = request.selinuxLabel {
            do { try AtomicFile.setLabel(fd, label, path: path) } catch {
                Glibc.close(fd)
                throw error
            }
        }
        return (fd, true)
    }

    /// A dry run stands in the parent for a directory that would be created (nothing beneath exists).
    private static func dupDirectory(_ fd: Int32, _ path: String) throws(SafeRootError) -> Int32 {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw .fromErrno(path, "cannot duplicate a descriptor") }
        return copy
    }
}
