import CLinux
import SystemPackage

/// Mount-namespace calls, in the style of `Syscalls` (one thin wrapper per raw call, EINTR
/// retried, `Errno` thrown).
extension Syscalls {
    /// Gives the calling thread its own copy of the mount namespace (`CLONE_NEWNS`): mounts made
    /// afterwards are seen by no other process, and go when the last thread in it ends.
    /// The corresponding C function is `unshare`.
    static func unshareMountNamespace() throws(Errno) {
        _ = try retrying { kr_unshare_mount_namespace() }
    }

    /// Sets the propagation of every mount at and beneath `path` to private (`MS_REC | MS_PRIVATE`),
    /// so that nothing mounted or unmounted there reaches a peer group outside.
    /// The corresponding C function is `mount`.
    static func makeMountTreePrivate(_ path: String) throws(Errno) {
        _ = try retrying { kr_mount(nil, path, nil, KR_MS_REC | KR_MS_PRIVATE, nil) }
    }

    /// Number of threads in this process, or nil when /proc cannot say.
    static func threadCount() -> Int? {
        let count = kr_thread_count()
        return count > 0 ? Int(count) : nil
    }
}
