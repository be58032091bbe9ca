import CLinux
import Glibc
import RescueModel
import SystemPackage

/// Gathers, from the disk, what LoginPathCheck judges: before writing (refuse, nothing written)
/// and after (the file as a fresh resolution from the root finds it).
enum LoginCheck {
    /// The path as it will be: existing parts as they are, the parts the writer creates the user's.
    static func before(_ r: KeyWriteRequest, _ root: SafeRoot, place: KeysLocation, file: PathNode)
        throws(KeyWriteError)
    {
        let directories = place.createdDirectories(r) + (try chain(from: place.deepestReal, root))
        if let why = problem(r, file: file, directories: directories, home: place.homeReal) {
            throw .loginWouldFail(why)
        }
    }

    /// Reads the file back through a fresh resolution from the root: a regular file with the owner
    /// and mode it should have, every key present plainly, and a path sshd accepts.
    static func verify(_ r: KeyWriteRequest, _ root: SafeRoot, owner: (uid: UInt32, gid: UInt32), mode: mode_t)
        throws(KeyWriteError)
    {
        let fd: FileDescriptor
        do {
            fd = FileDescriptor(rawValue: try Syscalls.openInRoot(root.fd, r.keysFile, flags: O_RDONLY | O_NOFOLLOW))
        } catch {
            throw .notKept("cannot open \(r.keysFile) again: \(error)")
        }
        defer { Syscalls.close(fd) }
        guard let st = try? Syscalls.status(fd), (st.st_mode & S_IFMT) == S_IFREG else {
            throw .notKept("\(r.keysFile) is not a regular file")
        }
        let node = PathNode(path: r.keysFile, uid: st.st_uid, gid: st.st_gid, mode: st.st_mode & 0o7777)
        guard node.uid == owner.uid, node.gid == owner.gid, node.mode == mode else {
            throw .notKept(
                "\(LoginPathCheck.describe(node)) should be \(owner.uid):\(owner.gid) \(LoginPathCheck.octal(mode))")
        }
        let bytes = try attempt("read \(r.keysFile) back") { () throws(Errno) in
            try Syscalls.readAll(fd, limit: ExistingKeys.maxSize)
        }
        if let key = AuthorizedKeys.missing(r.keys, in: bytes).first {
            throw .notKept("\(key.fingerprint) is not in \(r.keysFile) after writing it")
        }
        let parent = TargetPath.split(r.keysFile).parent
        let real = try directoryRealPath(parent, root)
        let home = try directoryRealPath(r.home, root)
        if let why = problem(r, file: node, directories: try chain(from: real, root), home: home) {
            throw .notKept("after writing, sshd would still refuse the login: \(why)")
        }
    }

    private static func problem(_ r: KeyWriteRequest, file: PathNode, directories: [PathNode], home: String) -> String?
    {
        if r.strictModes,
            let why = LoginPathCheck.strictModesProblem(
                file: file, directories: directories, home: home, account: r.account)
        {
            return "\(why), and the target's sshd has StrictModes on"
        }
        return LoginPathCheck.accessProblem(file: file, directories: directories, account: r.account)
    }

    /// Each directory of a real target path, from it up to `/`, as fstat sees it.
    static func chain(from realDirectory: String, _ root: SafeRoot) throws(KeyWriteError) -> [PathNode] {
        var nodes: [PathNode] = []
        var path = realDirectory
        while true {
            let fd = try openPath(path, root)
            defer { Syscalls.close(fd) }
            let st = try attempt("stat \(path)") { () throws(Errno) in try Syscalls.status(fd) }
            nodes.append(PathNode(path: path, uid: st.st_uid, gid: st.st_gid, mode: st.st_mode & 0o7777))
            if path == "/" { return nodes }
            path = TargetPath.split(path).parent
        }
    }

    private static func directoryRealPath(_ path: String, _ root: SafeRoot) throws(KeyWriteError) -> String {
        let fd = try openPath(path, root)
        defer { Syscalls.close(fd) }
        return try root.targetPath(of: fd)
    }

    private static func openPath(_ path: String, _ root: SafeRoot) throws(KeyWriteError) -> FileDescriptor {
        let flags = Int32(KR_O_PATH) | O_DIRECTORY | O_NOFOLLOW
        return FileDescriptor(
            rawValue: try attempt("open \(path)") { () throws(Errno) in
                try Syscalls.openInRoot(root.fd, path, flags: flags)
            })
    }
}
