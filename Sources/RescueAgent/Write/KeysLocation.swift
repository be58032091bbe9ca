import Glibc
import SystemPackage

/// Where the keys file goes: the deepest directory of its path that exists (open), and the
/// directories still missing below it, which only the home may lack. Found without writing.
struct KeysLocation {
    let deepest: FileDescriptor
    /// Real target path of `deepest` (symlinks above the home resolved, as sshd's realpath does).
    let deepestReal: String
    /// Directory names to create below `deepest`, in order.
    let missing: [String]
    /// The file's directory is the home or below it (else a system-wide AuthorizedKeysFile).
    let underHome: Bool
    let homeReal: String

    func realPath(of name: String) -> String { (missing + [name]).reduce(deepestReal) { TargetPath.join($0, $1) } }

    /// The directories the writer will create, as they will be: the user's, 0700; nearest the file first.
    func createdDirectories(_ r: KeyWriteRequest) -> [PathNode] {
        missing.indices.reversed().map { index in
            created(missing[...index].reduce(deepestReal) { TargetPath.join($0, $1) }, r, mode: 0o700)
        }
    }

    func created(_ path: String, _ r: KeyWriteRequest, mode: UInt32) -> PathNode {
        PathNode(path: path, uid: r.uid, gid: r.gid, mode: mode)
    }

    static func find(_ r: KeyWriteRequest, _ root: SafeRoot) throws(KeyWriteError) -> KeysLocation {
        // The walk below the home uses plain openat, where `..` would climb out of the target root
        // (a hostile sshd_config can say `AuthorizedKeysFile .ssh/../../../x`): refuse it anywhere.
        guard !r.keysFile.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw .refused(
                path: r.keysFile, why: "the path contains `.` or `..` (from the target's AuthorizedKeysFile)")
        }
        let home = try openHome(r, root)
        let homeReal = try root.targetPath(of: home)
        let parent = TargetPath.split(r.keysFile).parent
        let homePrefix = r.home.hasSuffix("/") ? r.home : r.home + "/"
        guard parent.hasPrefix(homePrefix) || parent == r.home else {
            Syscalls.close(home)
            // A system-wide AuthorizedKeysFile (e.g. /etc/ssh/keys/%u): its directory must exist.
            let dir: FileDescriptor
            do {
                dir = FileDescriptor(
                    rawValue: try Syscalls.openInRoot(root.fd, parent, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
            } catch .noSuchFileOrDirectory {
                throw .refused(
                    path: parent,
                    why: "the directory does not exist (outside the home the agent creates no directories)")
            } catch {
                throw refusal(error, parent, in: root, parent)
            }
            return KeysLocation(
                deepest: dir, deepestReal: try root.targetPath(of: dir), missing: [], underHome: false,
                homeReal: homeReal)
        }
        var fd = home
        var current = r.home
        let below = parent.dropFirst(r.home.count).split(separator: "/").map(String.init)
        for (index, component) in below.enumerated() {
            current = TargetPath.join(current, component)
            let next: FileDescriptor
            do {
                next = try Syscalls.openAt(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            } catch .noSuchFileOrDirectory {
                return KeysLocation(
                    deepest: fd, deepestReal: try root.targetPath(of: fd), missing: Array(below[index...]),
                    underHome: true,
                    homeReal: homeReal)
            } catch {
                defer { Syscalls.close(fd) }
                throw refusal(error, current, at: fd, component)
            }
            Syscalls.close(fd)
            fd = next
            let st = try attempt("stat \(current)") { () throws(Errno) in try Syscalls.status(next) }
            try ExistingKeys.requireOwner(st, current, r)
        }
        return KeysLocation(
            deepest: fd, deepestReal: try root.targetPath(of: fd), missing: [], underHome: true, homeReal: homeReal)
    }

    /// Creates the missing directories, the user's with mode 0700 (and the SELinux label);
    /// returns the keys file's directory (`deepest` when nothing was missing).
    func createMissing(_ r: KeyWriteRequest) throws(KeyWriteError) -> FileDescriptor {
        var fd = deepest
        var current =
            "/"
            + TargetPath.split(r.keysFile).parent.split(separator: "/").dropLast(missing.count).joined(separator: "/")
        for component in missing {
            current = TargetPath.join(current, component)
            let parent = fd
            defer { if parent != deepest { Syscalls.close(parent) } }
            try attempt("create \(current)") { () throws(Errno) in
                try Syscalls.makeDirectoryAt(parent, component, mode: 0o700)
            }
            fd = try attempt("open \(current)") { () throws(Errno) in
                try Syscalls.openAt(parent, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            }
            let made = fd
            try attempt("set the owner and mode of \(current)") { () throws(Errno) in
                try Syscalls.changeOwner(made, uid: r.uid, gid: r.gid)
                try Syscalls.changeMode(made, 0o700)
            }
            if let label = r.selinuxLabel {
                try attempt("set the SELinux label of \(current)") { () throws(Errno) in
                    try Syscalls.setExtendedAttribute(made, "security.selinux", Array(label.utf8) + [0])
                }
            }
        }
        return fd
    }

    private static func openHome(_ r: KeyWriteRequest, _ root: SafeRoot) throws(KeyWriteError) -> FileDescriptor {
        guard let st = root.lstatInRoot(r.home) else { throw .homeMissing(r.home) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw .refused(path: r.home, why: "the home directory is \(PathTrouble.kind(st.st_mode)), not a directory")
        }
        do {
            return FileDescriptor(
                rawValue: try Syscalls.openInRoot(root.fd, r.home, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
        } catch {
            throw refusal(error, r.home, in: root, r.home)
        }
    }

    /// Turns a failed open of a directory on the way into a refusal that says what stands there
    /// (PathTrouble: a symlink, a regular file or FIFO where a directory must be, a name too long).
    static func refusal(_ code: Errno, _ path: String, at dir: FileDescriptor, _ name: String) -> KeyWriteError {
        guard code == .tooManySymbolicLinkLevels || code == .notDirectory || code == .fileNameTooLong else {
            return .system(code, doing: "open \(path)")
        }
        let trouble = PathTrouble.openFailed(
            code.rawValue, directory: dir.rawValue, name: name, path: path, expected: .directory)
        return .refused(path: path, why: trouble.description)
    }

    static func refusal(_ code: Errno, _ path: String, in root: SafeRoot, _ target: String) -> KeyWriteError {
        guard
            code == .tooManySymbolicLinkLevels || code == .notDirectory || code == .improperLink
                || code == .fileNameTooLong
        else {
            return .system(code, doing: "open \(path)")
        }
        let trouble = PathTrouble.resolveFailed(
            code.rawValue, root: root.fd, path: target, expected: .directory, followLast: false)
        return .refused(path: path, why: trouble.description)
    }
}
