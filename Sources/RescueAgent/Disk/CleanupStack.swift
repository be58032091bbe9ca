import Synchronization

/// Undo actions (unmount, detach, remove a directory) run in reverse order of registration.
///
/// Each action runs at most once: `runAll()` is idempotent and may be called from `close()`, from a
/// `defer`, and from the signal watcher (see `SignalCleanup`) at the same time; the lock serialises
/// them. `perform` makes "do it, register its undo" one step with respect to the unwind: the
/// watcher waits for a mount(2) in flight to return and its unmount to be registered, then unwinds
/// everything in order; after the unwind `perform` refuses to start anything new. An action pushed
/// after the unwind runs at once.
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
    /// Held across `perform`'s action and registration, and while `runAll` takes the entries.
    private let operation = Mutex(())
    /// Held while `runAll` runs the actions, so that a second caller (`close()` on the main path
    /// while the signal watcher unwinds) returns only when everything has been undone.
    private let unwinding = Mutex(())

    /// Thrown by `perform` once the stack has been unwound (a signal arrived): stop, do nothing new.
    public struct Unwound: Error, CustomStringConvertible {
        public var description: String { "interrupted: everything was unmounted and detached" }
    }

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

    /// Does `act` and registers `undo` for its result as one step (see the type's comment).
    public func perform<T: Sendable>(
        _ label: String, _ act: () throws -> T, undo: @escaping @Sendable (T) throws -> Void
    ) throws -> T {
        try operation.withLock { _ throws -> T in
            if state.withLock({ $0.unwound }) { throw Unwound() }
            let value = try act()
            push(label) { try undo(value) }
            return value
        }
    }

    /// Number of undo actions still pending.
    public var pending: Int { state.withLock { $0.entries.count } }

    /// Runs every pending action, newest first, and keeps going after a failure: a failed unmount
    /// must not keep a loop device attached. Returns the failures as "label: error".
    @discardableResult
    public func runAll() -> [String] {
        unwinding.withLock { _ in
            let entries = operation.withLock { _ in
                state.withLock { s -> [Entry] in
                    let taken = s.entries
                    s.entries = []
                    s.unwound = true
                    return taken
                }
            }
            var failures: [String] = []
            for entry in entries.reversed() {
                do { try entry.action() } catch { failures.append("\(entry.label): \(error)") }
            }
            return failures
        }
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
