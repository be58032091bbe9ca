import CLinux
import Glibc
import RescueModel

/// mount(2) with the agent's rules: always nosuid,nodev,noexec; XFS always `nouuid` (a rescue host
/// made from the same image has the same UUID); read-only mounts replay no journal (ext4 `noload`,
/// XFS `norecovery`, btrfs `rescue=nologreplay`) so a dry run changes nothing on the disk.
enum MountOptions {
    static func flags(readOnly: Bool) -> UInt {
        UInt(KR_MS_NOSUID | KR_MS_NODEV | KR_MS_NOEXEC) | (readOnly ? UInt(KR_MS_RDONLY) : 0)
    }

    static func data(filesystem: String, readOnly: Bool, extra: [String] = []) -> String {
        var options: [String] = []
        switch filesystem {
        case "xfs": options = readOnly ? ["nouuid", "norecovery"] : ["nouuid"]
        case "ext4", "ext3": options = readOnly ? ["noload"] : []
        case "btrfs": options = readOnly ? ["rescue=nologreplay"] : []
        default: break
        }
        return (options + extra).joined(separator: ",")
    }

    /// mount(2) errors that mean the filesystem itself is damaged.
    static func meansCorrupt(_ err: Int32) -> Bool { err == EUCLEAN || err == EIO || err == EINVAL || err == EBADMSG }
}

/// A directory the agent mounted something on; unmounted (lazily if busy) and removed on cleanup.
final class Mount {
    let path: String
    private var cleanupID = 0
    private var mounted = true

    /// Mounts `device` on a fresh private directory under /run/keyrescue-agent.
    convenience init(device: String, filesystem: String, readOnly: Bool, extra: [String] = []) throws(SystemError) {
        let dir = try Self.makeDirectory()
        try self.init(device: device, on: dir, filesystem: filesystem, readOnly: readOnly, extra: extra, removeDirectory: true)
    }

    /// Mounts on an existing directory (`target` may be a `/proc/self/fd/N` path of a directory
    /// opened safely beneath the target root).
    init(device: String, on target: String, filesystem: String, readOnly: Bool, extra: [String] = [], removeDirectory: Bool = false, bind: Bool = false) throws(SystemError) {
        let data = MountOptions.data(filesystem: filesystem, readOnly: readOnly, extra: extra)
        let flags = bind ? UInt(KR_MS_BIND) : MountOptions.flags(readOnly: readOnly)
        guard kr_mount(device, target, bind ? nil : filesystem, flags, bind ? nil : data) == 0 else {
            let err = errno
            if removeDirectory { rmdir(target) }
            throw SystemError(err, "mount \(device) (\(filesystem), \(data.isEmpty ? "defaults" : data))")
        }
        // Record the real path: /proc/self/fd/N stops meaning anything once the fd is closed.
        path = Self.realPath(target) ?? target
        let recorded = path
        cleanupID = CleanupStack.shared.push {
            sync()
            if kr_umount2(recorded, 0) != 0 { _ = kr_umount2(recorded, Int32(KR_MNT_DETACH)) }
            if removeDirectory { rmdir(recorded) }
        }
    }

    func unmount() {
        guard mounted else { return }
        mounted = false
        CleanupStack.shared.run(cleanupID)
    }

    deinit { unmount() }

    static func makeDirectory() throws(SystemError) -> String {
        mkdir("/run/keyrescue-agent", 0o700)
        var template = Array("/run/keyrescue-agent/mnt.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap(mkdtemp) }) else {
            throw SystemError(errno, "cannot create a mount point under /run/keyrescue-agent")
        }
        return String(cString: made)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
