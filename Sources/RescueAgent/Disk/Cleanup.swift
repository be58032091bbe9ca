import Glibc

/// Undo actions (unmount, detach) run in reverse order exactly once: by `close()` on the normal
/// path, or by the signal watcher when SIGTERM, SIGINT or SIGHUP arrives. The signals are blocked
/// in every thread and received by `sigwait` on a dedicated thread, so the undo work runs as
/// ordinary code, never inside an async signal handler; a mutex keeps it from racing the main path.
public final class CleanupStack: @unchecked Sendable {
    public static let shared = CleanupStack()

    private var mutex = pthread_mutex_t()
    private var actions: [(id: Int, run: () -> Void)] = []
    private var nextID = 0

    private init() {
        pthread_mutex_init(&mutex, nil)
    }

    /// Registers an undo action; returns a token to run it early with `run(_:)`.
    @discardableResult
    public func push(_ action: @escaping () -> Void) -> Int {
        lock()
        defer { unlock() }
        nextID += 1
        actions.append((nextID, action))
        return nextID
    }

    /// Runs one registered action now (if it has not run) and forgets it.
    public func run(_ id: Int) {
        lock()
        let index = actions.firstIndex { $0.id == id }
        let action = index.map { actions.remove(at: $0).run }
        unlock()
        action?()
    }

    /// Runs every action still registered, newest first.
    public func runAll() {
        lock()
        let pending = actions.reversed().map(\.run)
        actions.removeAll()
        unlock()
        pending.forEach { $0() }
    }

    private func lock() { pthread_mutex_lock(&mutex) }
    private func unlock() { pthread_mutex_unlock(&mutex) }

    nonisolated(unsafe) private static var watcher: pthread_t?

    /// Blocks the termination signals in this (and every later) thread and starts the watcher.
    /// Call once, early in main, before other threads exist.
    public static func installSignalWatcher() {
        guard watcher == nil else { return }
        var set = terminationSignals()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        var thread = pthread_t()
        pthread_create(&thread, nil, { _ in
            var set = CleanupStack.terminationSignals()
            var signal: Int32 = 0
            sigwait(&set, &signal)
            let note = "keyrescue-agent: signal \(signal): unmounting and detaching before exit\n"
            _ = note.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            CleanupStack.shared.runAll()
            _exit(128 + signal)
        }, nil)
        watcher = thread
    }

    static func terminationSignals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, signal) }
        return set
    }
}
