import CLinux
import Glibc
import SystemPackage

/// The calls the key writer makes on the target's files, one thin wrapper per raw call, each
/// retried on EINTR and throwing `Errno` (never a global `errno` read later, e.g. after `close`).
extension Syscalls {
    /// Opens `name` relative to the directory `dir` (symlinks followed unless `O_NOFOLLOW`).
    /// The corresponding C function is `openat`.
    static func openAt(_ dir: FileDescriptor, _ name: String, _ flags: Int32, mode: mode_t = 0) throws(Errno)
        -> FileDescriptor
    {
        FileDescriptor(rawValue: try retrying { Glibc.openat(dir.rawValue, name, flags | O_CLOEXEC, mode) })
    }

    /// Creates the directory `name` in `dir`. The corresponding C function is `mkdirat`.
    static func makeDirectoryAt(_ dir: FileDescriptor, _ name: String, mode: mode_t) throws(Errno) {
        _ = try retrying { Glibc.mkdirat(dir.rawValue, name, mode) }
    }

    /// Renames `from` to `to`, both in `dir`, replacing `to`. The corresponding C function is `renameat`.
    static func renameAt(_ dir: FileDescriptor, _ from: String, _ to: String) throws(Errno) {
        _ = try retrying { Glibc.renameat(dir.rawValue, from, dir.rawValue, to) }
    }

    /// Removes the file `name` from `dir`. The corresponding C function is `unlinkat`.
    static func unlinkAt(_ dir: FileDescriptor, _ name: String) throws(Errno) {
        _ = try retrying { Glibc.unlinkat(dir.rawValue, name, 0) }
    }

    /// Sets the owner and group of an open file. The corresponding C function is `fchown`.
    static func changeOwner(_ fd: FileDescriptor, uid: UInt32, gid: UInt32) throws(Errno) {
        _ = try retrying { Glibc.fchown(fd.rawValue, uid, gid) }
    }

    /// Sets the mode of an open file. The corresponding C function is `fchmod`.
    static func changeMode(_ fd: FileDescriptor, _ mode: mode_t) throws(Errno) {
        _ = try retrying { Glibc.fchmod(fd.rawValue, mode) }
    }

    /// Flushes an open file or directory to the disk. The corresponding C function is `fsync`.
    static func sync(_ fd: FileDescriptor) throws(Errno) {
        _ = try retrying { Glibc.fsync(fd.rawValue) }
    }

    /// The status of an open file. The corresponding C function is `fstat`.
    static func status(_ fd: FileDescriptor) throws(Errno) -> stat {
        var st = stat()
        _ = try retrying { Glibc.fstat(fd.rawValue, &st) }
        return st
    }

    /// The status of `name` in `dir`, a final symlink not followed. The corresponding C function is `fstatat`.
    static func statusAt(_ dir: FileDescriptor, _ name: String) throws(Errno) -> stat {
        var st = stat()
        _ = try retrying { Glibc.fstatat(dir.rawValue, name, &st, AT_SYMLINK_NOFOLLOW) }
        return st
    }

    /// Sets the extended attribute `name` of an open file. The corresponding C function is `fsetxattr`.
    static func setExtendedAttribute(_ fd: FileDescriptor, _ name: String, _ value: [UInt8]) throws(Errno) {
        _ = try retrying { value.withUnsafeBytes { kr_fsetxattr(fd.rawValue, name, $0.baseAddress, $0.count, 0) } }
    }

    /// The extended attribute `name` of an open file; nil when it has none.
    /// The corresponding C function is `fgetxattr`.
    static func extendedAttribute(_ fd: FileDescriptor, _ name: String) throws(Errno) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        do {
            let count = try retrying {
                buffer.withUnsafeMutableBytes { kr_fgetxattr(fd.rawValue, name, $0.baseAddress, $0.count) }
            }
            return Array(buffer[0..<count])
        } catch .noData {
            return nil
        }
    }

    /// Where an open file descriptor points, as the kernel names it (`/proc/self/fd/N`).
    /// The corresponding C function is `readlink`.
    static func pathOf(_ fd: FileDescriptor) throws(Errno) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = try retrying { Glibc.readlink("/proc/self/fd/\(fd.rawValue)", &buffer, buffer.count - 1) }
        return string(Array(buffer[0..<count]) + [0])
    }

    /// Reads to the end of the file, refusing more than `limit` bytes with `.fileTooLarge`.
    /// The corresponding C function is `read`.
    static func readAll(_ fd: FileDescriptor, limit: Int) throws(Errno) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try retrying {
                buffer.withUnsafeMutableBytes { Glibc.read(fd.rawValue, $0.baseAddress, $0.count) }
            }
            if count == 0 { return bytes }
            guard bytes.count + count <= limit else { throw .fileTooLarge }
            bytes += buffer[0..<count]
        }
    }

    /// Writes every byte, continuing after short writes. The corresponding C function is `write`.
    static func writeAll(_ fd: FileDescriptor, _ bytes: [UInt8]) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            offset += try retrying {
                bytes[offset...].withUnsafeBytes { Glibc.write(fd.rawValue, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Closes `fd`; the error, if any, is dropped (the descriptor is gone either way on Linux).
    /// The corresponding C function is `close`.
    static func close(_ fd: FileDescriptor) { _ = Glibc.close(fd.rawValue) }
}
