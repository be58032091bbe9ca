import CLinux
import Glibc

/// Why a path beneath the target root could not be used; says which path and why.
public struct SafeRootError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    /// errno of the failing call, 0 when the refusal is ours (not a regular file, too large).
    public var errno: Int32
    public var reason: String

    public init(_ path: String, errno: Int32 = 0, _ reason: String) {
        self.path = path
        self.errno = errno
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }

    static func fromErrno(_ path: String, _ what: String, _ code: Int32 = Glibc.errno) -> SafeRootError {
        let text = String(cString: strerror(code))
        switch code {
        case ELOOP: return SafeRootError(path, errno: code, "\(what): a symlink is in the way (refused)")
        case EXDEV: return SafeRootError(path, errno: code, "\(what): the path leaves the target root (refused)")
        default: return SafeRootError(path, errno: code, "\(what): \(text)")
        }
    }
}

/// The target's root directory as an open handle. Every path is resolved beneath it by openat2 with
/// `RESOLVE_IN_ROOT`: absolute symlinks, relative symlinks and `..` are all clamped to the root, as if
/// the target were chroot'ed, so nothing the disk contains can make the agent touch the host.
public final class SafeRoot: TargetFiles, @unchecked Sendable {
    /// The host path of the root (for messages and reports only; never used to resolve).
    public let hostPath: String
    /// The root directory's descriptor; owned, closed on deinit.
    public let fd: Int32
    /// Files larger than this are refused by `readFile` (a hostile disk could offer a huge file).
    public let maxFileSize: Int

    public init(hostPath: String, maxFileSize: Int = 4 << 20) throws(SafeRootError) {
        let fd = Glibc.open(hostPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .fromErrno(hostPath, "cannot open the target root") }
        self.hostPath = hostPath
        self.fd = fd
        self.maxFileSize = maxFileSize
    }

    deinit { Glibc.close(fd) }

    /// Opens `path` (a target path; absolute or relative, both mean beneath the root) with `flags`.
    /// The corresponding C function is `openat2` with `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS`.
    public func open(_ path: String, flags: Int32, mode: UInt32 = 0) throws(SafeRootError) -> Int32 {
        try Self.openBeneath(fd, path, flags: flags, mode: mode)
    }

    /// Like `open`, but nil when the path (or a directory on it) does not exist.
    public func openIfPresent(_ path: String, flags: Int32) throws(SafeRootError) -> Int32? {
        let result = Self.tryOpen(fd, path, flags: flags, mode: 0)
        if result.fd >= 0 { return result.fd }
        if result.errno == ENOENT || result.errno == ENOTDIR { return nil }
        throw .fromErrno(path, "cannot open", result.errno)
    }

    /// openat2 beneath `directory`, retried on EINTR/EAGAIN (the kernel returns EAGAIN when a rename
    /// raced the lookup). The corresponding C function is `openat2`.
    static func openBeneath(_ directory: Int32, _ path: String, flags: Int32, mode: UInt32 = 0)
        throws(SafeRootError) -> Int32
    {
        let result = tryOpen(directory, path, flags: flags, mode: mode)
        guard result.fd >= 0 else { throw .fromErrno(path, "cannot open", result.errno) }
        return result.fd
    }

    private static func tryOpen(_ directory: Int32, _ path: String, flags: Int32, mode: UInt32)
        -> (fd: Int32, errno: Int32)
    {
        let resolve = UInt64(KR_RESOLVE_IN_ROOT | KR_RESOLVE_NO_MAGICLINKS)
        var code = EAGAIN
        for _ in 0..<16 {
            let fd = kr_openat2(directory, path, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), UInt64(mode), resolve)
            if fd >= 0 { return (fd, 0) }
            code = Glibc.errno
            if code != EINTR && code != EAGAIN { break }
        }
        return (-1, code)
    }

    public func readFile(_ path: String) throws -> [UInt8]? {
        guard let fd = try openIfPresent(path, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY) else { return nil }
        defer { Glibc.close(fd) }
        return try Self.readRegularFile(fd, path: path, limit: maxFileSize)
    }

    /// Reads an open descriptor that must be a regular file of at most `limit` bytes.
    static func readRegularFile(_ fd: Int32, path: String, limit: Int) throws(SafeRootError) -> [UInt8] {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fromErrno(path, "cannot stat") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw SafeRootError(path, "not a regular file (refused)")
        }
        guard info.st_size <= limit else {
            throw SafeRootError(path, "larger than \(limit) bytes (refused)")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if Glibc.errno == EINTR { continue }
                throw .fromErrno(path, "cannot read")
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= limit else { throw SafeRootError(path, "larger than \(limit) bytes (refused)") }
        }
    }

    public func listDirectory(_ path: String) throws -> [String]? {
        guard let fd = try openIfPresent(path, flags: O_RDONLY | O_DIRECTORY) else { return nil }
        guard let dir = fdopendir(fd) else {
            Glibc.close(fd)
            throw SafeRootError.fromErrno(path, "cannot list")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
