import CLinux
import Glibc
import SystemPackage

/// Thin wrappers over the raw calls the disk layer makes, one per call, each retried on EINTR and
/// throwing `Errno`, in swift-system's style.
enum Syscalls {
    /// Runs a call that returns -1 and sets errno on failure, again while it fails with EINTR.
    static func retrying<Result: BinaryInteger>(_ body: () -> Result) throws(Errno) -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Errno(rawValue: kr_errno())
            if code != .interrupted { throw code }
        }
    }

    /// Mounts `source` on `target`. The corresponding C function is `mount`.
    static func mount(source: String, target: String, type: String, flags: UInt, data: String) throws(Errno) {
        _ = try retrying { kr_mount(source, target, type, flags, data) }
    }

    /// Unmounts `target`. The corresponding C function is `umount2`.
    static func unmount(_ target: String, flags: Int32 = 0) throws(Errno) {
        _ = try retrying { kr_umount2(target, flags) }
    }

    /// Opens `path` (`mode` for a file it creates). The corresponding C function is `open`.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        try retrying { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Opens `path` beneath the directory `dirfd`, symlinks resolved as if `dirfd` were `/`.
    /// The corresponding C function is `openat2`.
    /// The one call through which the agent opens anything by path on the target (the disk layer,
    /// SafeRoot's reads and the key writer all come here; SafeRoot has no wrapper of its own).
    static func openInRoot(_ dirfd: Int32, _ path: String, flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        let resolve = UInt64(KR_RESOLVE_IN_ROOT | KR_RESOLVE_NO_MAGICLINKS)
        return try retrying { kr_openat2(dirfd, path, UInt64(flags | O_CLOEXEC), UInt64(mode), resolve) }
    }

    /// Closes `fd`, ignoring errors (nothing useful can be done about them here).
    /// The corresponding C function is `close`.
    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Creates a unique directory from `template` (ending in XXXXXX). The corresponding C function
    /// is `mkdtemp`.
    static func makeTemporaryDirectory(_ template: String) throws(Errno) -> String {
        var bytes = Array(template.utf8CString)
        let ok = bytes.withUnsafeMutableBufferPointer { $0.baseAddress.map { mkdtemp($0) != nil } ?? false }
        guard ok else { throw Errno(rawValue: kr_errno()) }
        return string(bytes)
    }

    /// A NUL-terminated C buffer as a String.
    static func string(_ bytes: [CChar]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The corresponding C function is `mkdir`.
    static func makeDirectory(_ path: String, mode: mode_t) throws(Errno) {
        if Glibc.mkdir(path, mode) != 0 {
            let code = Errno(rawValue: kr_errno())
            if code != .fileExists { throw code }
        }
    }

    /// The corresponding C function is `rmdir`.
    static func removeDirectory(_ path: String) throws(Errno) {
        if Glibc.rmdir(path) != 0 { throw Errno(rawValue: kr_errno()) }
    }

    /// True when `path` exists (any type, symlinks not followed). The corresponding C function is `lstat`.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Size of a block device or regular file in bytes.
    static func sizeInBytes(fd: Int32) throws(Errno) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Errno(rawValue: kr_errno()) }
        if (st.st_mode & S_IFMT) == S_IFBLK {
            let size = kr_block_size_bytes(fd)
            guard size >= 0 else { throw Errno(rawValue: kr_errno()) }
            return size
        }
        return Int64(st.st_size)
    }
}
