import CLinux
import Glibc
import Synchronization

/// Runs the registered cleanup stacks when SIGTERM, SIGINT or SIGHUP arrives, then lets the signal
/// end the process as it would have.
///
/// Why a self-pipe and a watcher thread: a signal handler may only call async-signal-safe
/// functions, and unmounting, detaching loop devices and taking locks are not among them (nor is
/// any Swift code that could allocate or hit a lazy global initialiser). So the handler, written
/// in C (`kr_install_signal_pipe`), only writes the signal number to a pipe. A dedicated pthread
/// blocks reading that pipe; it runs in normal context, so it may take the `CleanupStack` locks,
/// unmount and detach. Blocking the signals process-wide and using `sigwait` would be the other
/// sound design, but it needs the mask set before any other thread exists, which a library cannot
/// promise (the Swift runtime and tests start threads). The main thread keeps running meanwhile:
/// the watcher first waits for a mount or attach in flight to be registered (`CleanupStack.perform`),
/// a mount still in use is detached lazily after a second of retries, later `perform`s refuse, and
/// a `close()` racing the watcher waits for the unwind and then for the signal to end the process
/// (`waitIfTerminating`), so the exit status is the signal's, never 0.
public enum SignalCleanup {
    private struct Registry {
        var installed = false
        /// Set by the watcher before it unwinds: the process is about to end by the signal.
        var terminating = false
        var nextToken = 0
        var stacks: [Int: CleanupStack] = [:]
    }
    private static let registry = Mutex(Registry())
    static let handledSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    /// Makes `stack` run on a terminating signal; returns a token for `unregister`.
    /// Installs the handler and the watcher thread on first use.
    public static func register(_ stack: CleanupStack) throws -> Int {
        try registry.withLock { r -> Int in
            if !r.installed {
                try installWatcher()
                r.installed = true
            }
            r.nextToken += 1
            r.stacks[r.nextToken] = stack
            return r.nextToken
        }
    }

    public static func unregister(_ token: Int) {
        _ = registry.withLock { $0.stacks.removeValue(forKey: token) }
    }

    /// What the watcher does for `signal`: unwind every registered stack, newest first.
    static func unwindAll() {
        let stacks = registry.withLock { r in
            r.terminating = true
            return r.stacks.sorted { $0.key > $1.key }.map(\.value)
        }
        for stack in stacks { stack.runAll() }
    }

    /// Called by `close()` after its own unwind: when a signal is being handled, the watcher will
    /// end the process with that signal as soon as it has unwound; the caller must not go on to
    /// exit 0 as if the work had completed, so it waits here for the end.
    static func waitIfTerminating() {
        guard registry.withLock({ $0.terminating }) else { return }
        while true { pause() }
    }

    private static func installWatcher() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw DiskError.system("pipe", errno) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let readFD = fds[0]
        var thread = pthread_t()
        let context = UnsafeMutableRawPointer(bitPattern: Int(readFD) + 1)
        let created = pthread_create(
            &thread, nil,
            { context in
                let fd = Int32(Int(bitPattern: context) - 1)
                // A parent may have started the agent with these signals blocked (the mask is
                // inherited): unblock them here so that this thread, at least, always receives them.
                var set = sigset_t()
                sigemptyset(&set)
                for signal in SignalCleanup.handledSignals { sigaddset(&set, signal) }
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                var byte: UInt8 = 0
                while true {
                    let n = read(fd, &byte, 1)
                    if n == 1 { break }
                    if n < 0 && errno == EINTR { continue }
                    return nil
                }
                SignalCleanup.unwindAll()
                kr_reraise_default(Int32(byte))
                return nil
            }, context)
        guard created == 0 else { throw DiskError.system("pthread_create", created) }
        pthread_detach(thread)
        let status = handledSignals.withUnsafeBufferPointer {
            kr_install_signal_pipe(fds[1], $0.baseAddress, Int32($0.count))
        }
        guard status == 0 else { throw DiskError.system("sigaction", errno) }
    }
}
