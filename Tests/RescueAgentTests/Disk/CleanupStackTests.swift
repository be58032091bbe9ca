import Synchronization
import Testing

@testable import RescueAgent

@Suite struct CleanupStackTests {
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func undoesInReverseOrderOnceEvenAfterAFailure() {
        let stack = CleanupStack()
        let log = Log()
        stack.push("mount") { log.add("unmount") }
        stack.push("bad") {
            struct Boom: Error {}; throw Boom()
        }
        stack.push("loop") { log.add("detach") }
        let failures = stack.runAll()
        #expect(log.all == ["detach", "unmount"])
        #expect(failures.count == 1 && failures[0].hasPrefix("bad:"))
        #expect(stack.runAll().isEmpty)
        #expect(log.all == ["detach", "unmount"])
    }

    @Test func anActionPushedAfterTheUnwindRunsAtOnce() {
        let stack = CleanupStack()
        let log = Log()
        stack.runAll()
        stack.push("late") { log.add("late undone") }
        #expect(log.all == ["late undone"])
        #expect(stack.pending == 0)
    }

    @Test func unwindToAMarkKeepsTheOlderActions() {
        let stack = CleanupStack()
        let log = Log()
        stack.push("a") { log.add("a") }
        let mark = stack.pending
        stack.push("b") { log.add("b") }
        stack.push("c") { log.add("c") }
        stack.unwind(to: mark)
        #expect(log.all == ["c", "b"])
        #expect(stack.pending == 1)
        stack.runAll()
        #expect(log.all == ["c", "b", "a"])
    }
}

@Suite struct CleanupStackPerformTests {
    @Test func performRegistersTheUndoAndRefusesAfterTheUnwind() throws {
        let stack = CleanupStack()
        let log = CleanupStackTests.Log()
        let value = try stack.perform("thing") {
            42
        } undo: {
            log.add("undo \($0)")
        }
        #expect(value == 42)
        #expect(stack.pending == 1)
        stack.runAll()
        #expect(log.all == ["undo 42"])
        var acted = false
        #expect(throws: CleanupStack.Unwound.self) {
            try stack.perform("late") {
                acted = true
            } undo: { _ in
            }
        }
        #expect(!acted)
    }

    @Test func aFailedActionRegistersNothing() {
        let stack = CleanupStack()
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try stack.perform("x") {
                throw Refused()
            } undo: { (_: Void) in
            }
        }
        #expect(stack.pending == 0)
    }
}
