import CLinux
import Glibc
import RescueModel
import SystemPackage

/// The target's root directory as an open handle. Every path is resolved beneath it by the kernel
/// (openat2 with RESOLVE_IN_ROOT): `/`, `..` and absolute or relative symlinks all stay inside, so
/// a hostile disk cannot make the agent read or write the host's files. Magic links are refused.
public final class SafeRoot: TargetFiles {
    public let path: String
    let fd: Int32
    /// The root's own path as the kernel names it, to turn an open descriptor's path into a target path.
    private let hostPath: String?

    public init(path: String) throws(RescueReport.Failure) {
        let fd: Int32
        do { fd = try Syscalls.open(path, Int32(KR_O_PATH) | O_DIRECTORY) } catch {
            throw RescueReport.Failure(
                .noLinuxRoot, "cannot open the target root \(path): \(SystemError.text(error.rawValue))",
                hint: "give the directory where the target's root filesystem is mounted")
        }
        self.path = path
        self.fd = fd
        self.hostPath = try? Syscalls.pathOf(FileDescriptor(rawValue: fd))
    }

    deinit { close(fd) }

    /// The target path of an open directory or file beneath the root (`/` for the root itself):
    /// its real path, every symlink resolved, as sshd's realpath(3) sees it on the booted target.
    func targetPath(of file: FileDescriptor) throws(KeyWriteError) -> String {
        let full = try attempt("find where an open directory of the target is") { () throws(Errno) in
            try Syscalls.pathOf(file)
        }
        guard let base = hostPath, full == base || full.hasPrefix(base == "/" ? "/" : base + "/") else {
            throw .refused(path: full, why: "it resolved outside the target root")
        }
        let rest = base == "/" ? full : String(full.dropFirst(base.count))
        return rest.isEmpty ? "/" : rest
    }

    // Reading (TargetFiles: `stream`, `entries`) is in Parsing/BoundedReader.swift: bounded, and
    // a FIFO or device node is looked at through O_PATH, never opened.

    /// lstat of a target path whose parent is resolved beneath the root (the last component is not followed).
    func lstatInRoot(_ target: String) -> stat? {
        let (parent, name) = TargetPath.split(target)
        guard let dirfd = try? Syscalls.openInRoot(fd, parent, flags: Int32(KR_O_PATH) | O_DIRECTORY) else {
            return nil
        }
        let dir = FileDescriptor(rawValue: dirfd)
        defer { Syscalls.close(dir) }
        return try? Syscalls.statusAt(dir, name)
    }
}

/// A failed system call: errno, what was being done, and strerror's words.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public var code: Int32
    public var context: String

    public init(_ code: Int32, _ context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "\(context): \(Self.text(code))" }

    static func text(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// Pure helpers for target paths (always absolute, `/`-separated, as seen from the target).
enum TargetPath {
    /// Parent directory and last component: `/home/a/.ssh` → (`/home/a`, `.ssh`).
    static func split(_ path: String) -> (parent: String, name: String) {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let name = parts.popLast() ?? "."
        return ("/" + parts.joined(separator: "/"), name)
    }

    static func join(_ base: String, _ relative: String) -> String {
        relative.hasPrefix("/") ? relative : (base.hasSuffix("/") ? base + relative : base + "/" + relative)
    }
}
