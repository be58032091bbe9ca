import Synchronization

/// Undo actions (unmount, detach, remove a directory) run in reverse order of registration.
///
/// Each action runs at most once: `runAll()` is idempotent and may be called from `close()`, from a
/// `defer`, and from the signal watcher (see `SignalCleanup`) at the same time; the lock serialises
/// them. Once the stack has been unwound, an action pushed afterwards runs at once, so a resource
/// created while a SIGTERM is being handled is still undone.
public final class CleanupStack: Sendable {
    private struct Entry {
        let label: String
        let action: @Sendable () throws -> Void
    }
    private struct State {
        var entries: [Entry] = []
        var unwound = false
    }
    private let state = Mutex(State())

    public init() {}

    /// Registers `action` as the undo of something just done; `label` names it in error messages.
    public func push(_ label: String, _ action: @escaping @Sendable () throws -> Void) {
        let runNow = state.withLock { s -> Bool in
            if s.unwound { return true }
            s.entries.append(Entry(label: label, action: action))
            return false
        }
        if runNow { try? action() }
    }

    /// Number of undo actions still pending.
    public var pending: Int { state.withLock { $0.entries.count } }

    /// Runs every pending action, newest first, and keeps going after a failure: a failed unmount
    /// must not keep a loop device attached. Returns the failures as "label: error".
    @discardableResult
    public func runAll() -> [String] {
        let entries = state.withLock { s -> [Entry] in
            let taken = s.entries
            s.entries = []
            s.unwound = true
            return taken
        }
        var failures: [String] = []
        for entry in entries.reversed() {
            do { try entry.action() } catch { failures.append("\(entry.label): \(error)") }
        }
        return failures
    }

    /// Runs the pending actions pushed after `mark` (a value of `pending`), newest first, leaving
    /// the older ones in place: undoes a half-finished attempt (a mount tried and rejected).
    @discardableResult
    public func unwind(to mark: Int) -> [String] {
        let entries = state.withLock { s -> [Entry] in
            guard mark < s.entries.count else { return [] }
            let taken = Array(s.entries[mark...])
            s.entries.removeSubrange(mark...)
            return taken
        }
        var failures: [String] = []
        for entry in entries.reversed() {
            do { try entry.action() } catch { failures.append("\(entry.label): \(error)") }
        }
        return failures
    }
}
