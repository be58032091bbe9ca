import CLinux
import RescueModel
import Synchronization

/// The agent's mounts live in a mount namespace of its own. Any death of the process — SIGKILL, a
/// crash — then takes them with it: the kernel drops a namespace's mounts when its last task
/// ends, and each loop device (autoclear, held open only by the agent) goes once its mounts have
/// gone. Without it a SIGSEGV left the target mounted on the rescue host, and the controller's
/// DetachVolume then hung in `busy`.
///
/// unshare(2) moves only the calling thread, and a thread started later inherits its creator's
/// namespace. So `enter()` must run before any other thread exists: the signal watcher
/// (`SignalCleanup`) that unmounts on SIGTERM is started afterwards, from the same thread, and
/// shares the namespace. The executable calls it first thing (`DiskTarget.open`); in-process
/// tests, which run many threads, don't, and rely on `close()`.
public enum PrivateMountNamespace {
    private static let entered = Mutex(false)

    /// Enters a new mount namespace with every mount private. Idempotent.
    public static func enter() throws(RescueReport.Failure) {
        try entered.withLock { (done: inout Bool) throws(RescueReport.Failure) in
            if done { return }
            if let threads = Syscalls.threadCount(), threads > 1 {
                throw RescueReport.Failure(
                    .internalError, "cannot take a private mount namespace: \(threads) threads are running already",
                    hint: "this is a bug in keyrescue-agent: the namespace must be entered before any thread starts")
            }
            do { try Syscalls.unshareMountNamespace() } catch {
                throw RescueReport.Failure(
                    .unsupported, "cannot take a private mount namespace (unshare: \(error))",
                    hint:
                        "run keyrescue-agent as root (it needs CAP_SYS_ADMIN), outside a container that forbids unshare"
                )
            }
            // Mounts copied from a shared peer group would propagate ours back out: make all private.
            do { try Syscalls.makeMountTreePrivate("/") } catch {
                throw RescueReport.Failure(
                    .unsupported, "cannot make the mounts of the private namespace private (\(error))",
                    hint: "run keyrescue-agent with / as a mount point (not in a plain chroot)")
            }
            // The work directory's mount points too: on a tmpfs of the namespace's own, they go
            // with it instead of staying as empty directories in the host's /run.
            do {
                try Syscalls.makeDirectory(workRoot, mode: 0o700)
                try Syscalls.mount(
                    source: "keyrescue-agent", target: workRoot, type: "tmpfs",
                    flags: KR_MS_NOSUID | KR_MS_NODEV | KR_MS_NOEXEC, data: "mode=0700")
            } catch {
                throw RescueReport.Failure(
                    .unsupported, "cannot mount a private tmpfs on \(workRoot) (\(error))",
                    hint: "check that /run is writable by root on this host")
            }
            done = true
        }
    }

    /// Where the disk layer makes its mount points (`DiskTarget`).
    static let workRoot = "/run/keyrescue-agent"
}
