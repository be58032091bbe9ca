import CLinux
import Glibc
import SystemPackage

/// What must stand at a path for the agent to use it.
public enum PathExpectation: Sendable {
    case regularFile, directory

    var words: String { self == .regularFile ? "a regular file" : "a directory" }
}

/// What really stands at a target path the agent refuses, in words: "is a FIFO where a regular
/// file must be", "is a regular file where a directory must be", "is a symlink", "is a symlink
/// loop", "is a path too long". One place for these words, shared by the reader and the writer, so a
/// FIFO is never called a symlink. `path` may be a parent of the path asked for (the component
/// that is not a directory).
public struct PathTrouble: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    /// Completes "PATH …".
    public var what: String

    public init(_ path: String, _ what: String) {
        (self.path, self.what) = (path, what)
    }

    public var description: String { "\(path) \(what)" }

    /// The file type of a stat mode, with its article: "a FIFO", "a socket", "a block device".
    public static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symlink"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFBLK: "a block device"
        case S_IFCHR: "a character device"
        default: "a file of unknown type"
        }
    }

    /// What stands at `path` instead of what was expected; nil when it is what was expected.
    public static func mismatch(_ path: String, mode: mode_t, expected: PathExpectation) -> PathTrouble? {
        let wanted: mode_t = expected == .regularFile ? S_IFREG : S_IFDIR
        guard mode & S_IFMT != wanted else { return nil }
        return PathTrouble(path, "is \(kind(mode)) where \(expected.words) must be")
    }

    /// Why opening `name` in the open directory `dirfd` failed with `err` (the walks that open one
    /// component at a time with O_NOFOLLOW). Looks at the entry without following it.
    public static func openFailed(
        _ err: Int32, directory dirfd: Int32, name: String, path: String, expected: PathExpectation
    ) -> PathTrouble {
        if err == ENAMETOOLONG { return tooLong(path) }
        if let st = try? Syscalls.statusAt(FileDescriptor(rawValue: dirfd), name),
            let found = mismatch(path, mode: st.st_mode, expected: expected)
        {
            return found
        }
        return other(err, path)
    }

    /// Why resolving `path` beneath the root directory `rootFD` (openat2 RESOLVE_IN_ROOT) failed with
    /// `err`. `followLast` says whether the open followed a symlink as the last component.
    public static func resolveFailed(
        _ err: Int32, root rootFD: Int32, path: String, expected: PathExpectation, followLast: Bool
    ) -> PathTrouble {
        if err == ENAMETOOLONG { return tooLong(path) }
        if err == ENOTDIR, let parent = firstNonDirectoryParent(rootFD, path) { return parent }
        if let mode = mode(rootFD, path, follow: followLast), let found = mismatch(path, mode: mode, expected: expected)
        {
            return found
        }
        if err == ELOOP { return PathTrouble(path, "is a symlink loop (or a chain of more than 40 symlinks)") }
        return other(err, path)
    }

    /// The type of what is at `path` beneath the root, without opening it for reading (O_PATH).
    static func mode(_ rootFD: Int32, _ path: String, follow: Bool) -> mode_t? {
        let flags = Int32(KR_O_PATH) | (follow ? 0 : O_NOFOLLOW)
        guard let fd = try? Syscalls.openInRoot(rootFD, path, flags: flags) else { return nil }
        defer { Syscalls.close(fd) }
        return (try? Syscalls.status(FileDescriptor(rawValue: fd)))?.st_mode
    }

    private static func firstNonDirectoryParent(_ rootFD: Int32, _ path: String) -> PathTrouble? {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/\(component)"
            guard let mode = mode(rootFD, prefix, follow: true) else { return nil }
            if let found = mismatch(prefix, mode: mode, expected: .directory) { return found }
        }
        return nil
    }

    private static func tooLong(_ path: String) -> PathTrouble {
        PathTrouble(
            path.count > 120 ? String(path.prefix(100)) + "…" : path,
            "is a path too long (a name over 255 bytes or a path over 4096)")
    }

    private static func other(_ err: Int32, _ path: String) -> PathTrouble {
        PathTrouble(path, "cannot be opened: \(String(cString: strerror(err)))")
    }
}
