import CLinux
import Glibc
import RescueModel

/// The target's root directory as an open handle. Every path is resolved beneath it by the kernel
/// (openat2 with RESOLVE_IN_ROOT): `/`, `..` and absolute or relative symlinks all stay inside, so
/// a hostile disk cannot make the agent read or write the host's files. Magic links are refused.
public final class SafeRoot: TargetFiles {
    public let path: String
    let fd: Int32
    /// Larger files are refused: nothing the agent reads from a target is legitimately this big.
    static let maxFileSize = 4 << 20

    public init(path: String) throws(RescueReport.Failure) {
        let fd = Glibc.open(path, Int32(KR_O_PATH) | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RescueReport.Failure(
                .noLinuxRoot, "cannot open the target root \(path): \(SystemError.text(errno))",
                hint: "give the directory where the target's root filesystem is mounted")
        }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Opens `target` (an absolute path as seen from the target) beneath the root. With
    /// `noFollow`, a symlink as the last component fails with ELOOP instead of being followed.
    func open(_ target: String, flags: Int32, mode: mode_t = 0, noFollow: Bool = false) -> Int32 {
        do {
            return try Syscalls.openInRoot(fd, target, flags: flags | (noFollow ? O_NOFOLLOW : 0), mode: mode)
        } catch {
            errno = error.rawValue   // the writer's callers read errno after -1, as after open(2)
            return -1
        }
    }

    public func readFile(_ target: String) throws -> [UInt8]? {
        let file = open(target, flags: O_RDONLY | O_NONBLOCK)
        if file < 0 {
            let err = errno
            if err == ENOENT || err == ENOTDIR { return nil }
            throw SystemError(err, "cannot read \(target) on the target")
        }
        defer { close(file) }
        var st = stat()
        guard fstat(file, &st) == 0 else { throw SystemError(errno, "cannot stat \(target) on the target") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SystemError(EINVAL, "\(target) on the target is not a regular file") }
        guard Int(st.st_size) <= Self.maxFileSize else { throw SystemError(EFBIG, "\(target) on the target is too large") }
        return try readAll(file, what: target)
    }

    public func listDirectory(_ target: String) throws -> [String]? {
        let dirfd = open(target, flags: O_RDONLY | O_DIRECTORY)
        if dirfd < 0 {
            let err = errno
            if err == ENOENT || err == ENOTDIR { return nil }
            throw SystemError(err, "cannot list \(target) on the target")
        }
        guard let dir = fdopendir(dirfd) else {
            close(dirfd)
            throw SystemError(errno, "cannot list \(target) on the target")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// lstat of a target path whose parent is resolved beneath the root (the last component is not followed).
    func lstatInRoot(_ target: String) -> stat? {
        let (parent, name) = TargetPath.split(target)
        let dirfd = open(parent, flags: Int32(KR_O_PATH) | O_DIRECTORY)
        guard dirfd >= 0 else { return nil }
        defer { close(dirfd) }
        var st = stat()
        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
    }
}

func readAll(_ fd: Int32, what: String) throws(SystemError) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw SystemError(errno, "cannot read \(what)")
        }
        if n == 0 { return bytes }
        bytes += buffer[0..<n]
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
