import Foundation
import RescueModel
import Testing

@testable import RescueController

/// What the engine tells its callers when things go wrong, and the journal's listing.
@Suite struct FailureAndJournalTests {
    @Test(arguments: RescueErrorCode.allCases)
    func everyAgentFailureHasANextStep(code: RescueErrorCode) {
        let next = AgentAdvice.next(for: .init(code, "failed", hint: ""))
        #expect(!next.isEmpty && next != "failed")
    }

    @Test func theAgentsOwnHintComesFirst() {
        #expect(AgentAdvice.next(for: .init(.noLoginUser, "no user", hint: "pass --user alice")) == "pass --user alice")
    }

    @Test func aFailureNeverHasAnEmptyNextStep() {
        let failure = RescueFailure(runID: "kr-1", message: "m", disposition: .resumable, state: "s", next: "")
        #expect(failure.next.contains("keyrescue status kr-1"))
        #expect(failure.description == "m\n  state: resumable — s\n  next: \(failure.next)")
    }

    @Test func unreadableAndNewerJournalsAreListedWithWhy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kr-entries-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = JournalStore(directory: dir)
        try store.save(RunRecord(plan: Fixture.record(at: .planned).plan, now: Date()))
        try Data("{not json".utf8).write(to: store.path(of: "kr-damaged"))
        try Data(#"{"version": 99}"#.utf8).write(to: store.path(of: "kr-newer"))
        let entries = store.entries()
        #expect(entries.count == 3)
        #expect(store.list().map(\.runID) == ["kr-test"])
        var reasons: [String: String] = [:]
        for case .unreadable(let runID, let reason) in entries { reasons[runID] = reason }
        #expect(reasons["kr-newer"]?.contains("journal version 99") == true)
        #expect(reasons["kr-damaged"]?.contains("cannot read") == true)
    }
}
